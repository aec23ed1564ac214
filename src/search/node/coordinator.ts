/**
 * The distributed search of one query, as the node that received it runs it (the seed's
 * "Flujo 2", with exact global statistics). It is the pipeline of `searchShards`
 * (src/search/index/query.ts) spread over the live nodes:
 *
 * 1. analyze the query into weighted terms (once, here);
 * 2. ask every live node for the statistics of its *primary* documents for those terms, and sum
 *    them: N, total length and df(t) of the whole collection, each document counted once;
 * 3. ask the nodes that have primary postings for a term to score them with those statistics,
 *    and merge their top k lists;
 * 4. with RM3: fetch the term vectors of the first round's best documents from the nodes that
 *    returned them, expand the query, and run 2-3 again with it;
 * 5. fetch the metadata and snippets (highlighting the original query terms) of the page of
 *    results from the nodes that returned them (only the page: snippets cost more than scores).
 *
 * A node that fails in any step is left out, and the whole query runs again over the remaining
 * live nodes (each document's next owner then becomes its primary); after `maxAttempts` the last
 * answer is returned as incomplete. No timers or clocks here: the transport is injected.
 */
import {
  analyzeQuery,
  combineStats,
  expandQuery,
  feedbackDocuments,
  feedbackOptions,
  mergeTopK,
  type Language,
  type LocalStats,
  type QueryTerm,
  type SearchOptions,
} from '../index/index.js';
import type { HitDetails } from './local-node.js';
import type { WireHitType, WireStatsType } from './schemas.js';

/** What the coordinator asks of a node (locally or over the network). */
export interface NodeCaller {
  stats(nodeId: number, terms: string[], live: readonly number[]): Promise<WireStatsType>;
  search(nodeId: number, body: RemoteSearch): Promise<WireHitType[]>;
  termVectors(nodeId: number, docIds: string[]): Promise<Record<string, Record<string, number>>>;
  details(
    nodeId: number,
    docIds: string[],
    terms: string[],
    snippets: boolean,
  ): Promise<Record<string, HitDetails>>;
}

/** The body of one node's local search. */
export interface RemoteSearch {
  readonly query: QueryTerm[];
  readonly stats: WireStatsType;
  readonly k: number;
  readonly options: Omit<SearchOptions, 'filter'>;
  readonly live: readonly number[];
}

/** A query as the coordinator runs it. */
export interface DistributedQuery {
  readonly text: string;
  readonly k: number;
  readonly offset: number;
  readonly language: Language;
  readonly search: Omit<SearchOptions, 'filter'>;
  /** RM3 feedback (default pipeline: true). */
  readonly feedback: boolean;
  /** Highlighted snippets with the results (default true; metadata comes always). */
  readonly snippets?: boolean;
}

/** A merged hit with the node that returned it (and, on the final page, its details). */
export interface NodeHit extends WireHitType {
  readonly node_id: number;
  readonly snippet?: string;
  readonly metadata?: Record<string, unknown>;
}

/** What a distributed search came to. */
export interface SearchOutcome {
  /** The page of results: ranks offset .. offset + k - 1. */
  readonly hits: NodeHit[];
  /** The analyzed terms of the original query. */
  readonly terms: string[];
  /** Nodes that answered in the final attempt. */
  readonly queried: number[];
  /** Nodes that failed during this query (left out of later attempts). */
  readonly failed: number[];
  /** True when the final attempt still had a failing node: its documents may be missing. */
  readonly incomplete: boolean;
  readonly attempts: number;
}

const emptyStats = (): WireStatsType => ({ doc_count: 0, total_length: 0, df: {} });

function toLocal(stats: WireStatsType): LocalStats {
  return { docCount: stats.doc_count, totalLength: stats.total_length, df: stats.df };
}

function hasAnyTerm(stats: WireStatsType | undefined, terms: readonly string[]): boolean {
  if (stats === undefined) return false;
  return terms.some((term) => Object.hasOwn(stats.df, term) && (stats.df[term] ?? 0) > 0);
}

/** One attempt over a fixed live set; records the nodes that failed or answered. */
class Attempt {
  readonly failed = new Set<number>();
  readonly answered = new Set<number>();

  constructor(
    private readonly caller: NodeCaller,
    private readonly live: readonly number[],
    private readonly query: DistributedQuery,
  ) {}

  async run(terms: QueryTerm[]): Promise<NodeHit[]> {
    const depth = this.query.offset + this.query.k;
    const feedback = feedbackOptions({ feedback: this.query.feedback });
    if (feedback === undefined) return this.scatter(terms, depth);
    const first = await this.scatter(terms, feedback.fbDocs);
    const vectors = await this.vectorsOf(first);
    const expanded = expandQuery(terms, feedbackDocuments(first, vectors), feedback);
    return this.scatter(expanded, depth);
  }

  /** The page's metadata and snippets, each from the node that returned the hit. */
  async withDetails(page: readonly NodeHit[], terms: string[]): Promise<NodeHit[]> {
    const byNode = groupByNode(page);
    const snippets = this.query.snippets ?? true;
    const found: Record<string, HitDetails> = {};
    const parts = await Promise.all(
      [...byNode].map(([nodeId, ids]) =>
        this.guard(nodeId, () => this.caller.details(nodeId, ids, terms, snippets)),
      ),
    );
    for (const part of parts) if (part !== undefined) Object.assign(found, part);
    return page.map((hit) => {
      const details = Object.hasOwn(found, hit.doc_id) ? found[hit.doc_id] : undefined;
      return { ...hit, snippet: details?.snippet ?? '', metadata: details?.metadata ?? {} };
    });
  }

  private async guard<T>(nodeId: number, call: () => Promise<T>): Promise<T | undefined> {
    try {
      const value = await call();
      this.answered.add(nodeId);
      return value;
    } catch {
      this.failed.add(nodeId);
      return undefined;
    }
  }

  private async scatter(query: QueryTerm[], depth: number): Promise<NodeHit[]> {
    const terms = query.map((term) => term.term);
    const parts = await Promise.all(
      this.live.map((nodeId) =>
        this.guard(nodeId, () => this.caller.stats(nodeId, terms, this.live)),
      ),
    );
    const combined = combineStats(parts.map((part) => toLocal(part ?? emptyStats())));
    const stats = {
      doc_count: combined.docCount,
      total_length: combined.totalLength,
      df: combined.df,
    };
    const targets = this.live.filter((_, i) => hasAnyTerm(parts[i], terms));
    const lists = await Promise.all(
      targets.map(async (nodeId) => {
        const body: RemoteSearch = {
          query,
          stats,
          k: depth,
          options: this.query.search,
          live: this.live,
        };
        const hits = await this.guard(nodeId, () => this.caller.search(nodeId, body));
        return (hits ?? []).map((hit): NodeHit => ({ ...hit, node_id: nodeId }));
      }),
    );
    return mergeTopK(lists, depth);
  }

  /** Term vectors of the hits, each asked of the node that returned it. */
  private async vectorsOf(
    hits: readonly NodeHit[],
  ): Promise<Record<string, Record<string, number>>> {
    const vectors: Record<string, Record<string, number>> = Object.create(null) as Record<
      string,
      Record<string, number>
    >;
    const parts = await Promise.all(
      [...groupByNode(hits)].map(([nodeId, ids]) =>
        this.guard(nodeId, () => this.caller.termVectors(nodeId, ids)),
      ),
    );
    for (const part of parts) if (part !== undefined) Object.assign(vectors, part);
    return vectors;
  }
}

/** Doc ids of hits, by the node that returned them. */
function groupByNode(hits: readonly NodeHit[]): Map<number, string[]> {
  const byNode = new Map<number, string[]>();
  for (const hit of hits) {
    const ids = byNode.get(hit.node_id);
    if (ids === undefined) byNode.set(hit.node_id, [hit.doc_id]);
    else ids.push(hit.doc_id);
  }
  return byNode;
}

/**
 * Runs a query over `liveIds`. `onNodeFailed` hears of every node that failed (the caller
 * suspects it). At most `maxAttempts` attempts, each without the nodes that failed before.
 */
export async function coordinateSearch(
  caller: NodeCaller,
  liveIds: readonly number[],
  query: DistributedQuery,
  options: { maxAttempts?: number; onNodeFailed?: (nodeId: number) => void } = {},
): Promise<SearchOutcome> {
  const terms = analyzeQuery(query.text, query.language);
  const original = terms.map((term) => term.term);
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const failed = new Set<number>();
  for (let attempt = 1; ; attempt += 1) {
    const live = [...new Set(liveIds)].filter((id) => !failed.has(id)).sort((a, b) => a - b);
    if (terms.length === 0 || live.length === 0) {
      return {
        hits: [],
        terms: original,
        queried: [],
        failed: [...failed],
        incomplete: false,
        attempts: attempt,
      };
    }
    const run = new Attempt(caller, live, query);
    const merged = await run.run(terms);
    if (run.failed.size === 0 || attempt >= maxAttempts) {
      const rankingFailed = [...run.failed];
      // A node failing only here costs its hits' snippets, not the ranking.
      const page = await run.withDetails(merged.slice(query.offset), original);
      for (const nodeId of run.failed) if (!failed.has(nodeId)) options.onNodeFailed?.(nodeId);
      for (const nodeId of rankingFailed) failed.add(nodeId);
      return {
        hits: page,
        terms: original,
        queried: [...run.answered].filter((id) => !run.failed.has(id)).sort((a, b) => a - b),
        failed: [...failed].sort((a, b) => a - b),
        incomplete: rankingFailed.length > 0,
        attempts: attempt,
      };
    }
    for (const nodeId of run.failed) {
      if (!failed.has(nodeId)) options.onNodeFailed?.(nodeId);
      failed.add(nodeId);
    }
  }
}
