/**
 * Document placement and forwarding (the write path of `POST /doc` and `POST /docs` on any
 * node). Each document goes to its k owners: `placeDocument` (rendezvous hashing) over the live
 * node ids. Every owner stores it durably before it answers, so the caller's 2xx means the
 * document is on disk on every owner that answered.
 *
 * When an owner fails, the document is still acknowledged if another owner stored it (the
 * repair loop restores the k-th copy once the live set has changed, see repair.ts); a document
 * that no owner stored is offered to the next nodes in its placement order, at most
 * `maxRounds` times, and reported as failed if it is still nowhere.
 */
import { placeDocument } from '../balancer/index.js';
import type { StoredDocument } from '../index/index.js';

/** Stores a batch on one node (this one, or a peer over HTTP). */
export type StoreBatch = (nodeId: number, docs: readonly StoredDocument[]) => Promise<void>;

/** The outcome of a write. */
export interface WriteOutcome {
  /** doc_id -> the nodes that stored it durably. */
  readonly storedOn: Map<string, number[]>;
  /** Documents no node stored. */
  readonly failedDocs: string[];
  /** Nodes that failed during the write. */
  readonly failedNodes: number[];
  /** Documents stored on fewer than min(k, live) nodes (to be re-replicated). */
  readonly underReplicated: number;
}

export interface WriteOptions {
  readonly k: number;
  /** Documents per request to one node. */
  readonly chunkDocs: number;
  /** Placement rounds for documents that found no owner (default 3). */
  readonly maxRounds?: number;
  readonly onNodeFailed?: (nodeId: number) => void;
}

/** Groups documents by owner: node id -> the documents it must store. */
export function groupByOwner(
  docs: readonly StoredDocument[],
  liveIds: readonly number[],
  k: number,
): Map<number, StoredDocument[]> {
  const groups = new Map<number, StoredDocument[]>();
  for (const doc of docs) {
    for (const owner of placeDocument(doc.doc_id, liveIds, k)) {
      const group = groups.get(owner);
      if (group === undefined) groups.set(owner, [doc]);
      else group.push(doc);
    }
  }
  return groups;
}

async function sendChunks(
  store: StoreBatch,
  nodeId: number,
  docs: readonly StoredDocument[],
  chunkDocs: number,
  storedOn: Map<string, number[]>,
): Promise<void> {
  for (let start = 0; start < docs.length; start += chunkDocs) {
    const chunk = docs.slice(start, start + chunkDocs);
    await store(nodeId, chunk);
    for (const doc of chunk) storedOn.get(doc.doc_id)?.push(nodeId);
  }
}

/** Places `docs` on their owners among `liveIds` and stores them there. */
export async function placeAndStore(
  docs: readonly StoredDocument[],
  liveIds: readonly number[],
  store: StoreBatch,
  options: WriteOptions,
): Promise<WriteOutcome> {
  const storedOn = new Map<string, number[]>(docs.map((doc) => [doc.doc_id, []]));
  const failedNodes = new Set<number>();
  let pending = [...new Map(docs.map((doc) => [doc.doc_id, doc])).values()];
  const maxRounds = options.maxRounds ?? 3;
  for (let round = 0; round < maxRounds && pending.length > 0; round += 1) {
    const candidates = liveIds.filter((id) => !failedNodes.has(id));
    if (candidates.length === 0) break;
    const groups = groupByOwner(pending, candidates, options.k);
    await Promise.all(
      [...groups].map(async ([nodeId, group]) => {
        try {
          await sendChunks(store, nodeId, group, options.chunkDocs, storedOn);
        } catch {
          failedNodes.add(nodeId);
          options.onNodeFailed?.(nodeId);
        }
      }),
    );
    pending = pending.filter((doc) => (storedOn.get(doc.doc_id)?.length ?? 0) === 0);
  }
  const want = Math.min(options.k, liveIds.length);
  let underReplicated = 0;
  for (const nodes of storedOn.values())
    if (nodes.length > 0 && nodes.length < want) underReplicated += 1;
  return {
    storedOn,
    failedDocs: pending.map((doc) => doc.doc_id),
    failedNodes: [...failedNodes].sort((a, b) => a - b),
    underReplicated,
  };
}
