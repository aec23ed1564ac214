/**
 * The distributed search of one query, as the node that received it runs it (the seed's
 * "Flujo 2", with exact global statistics). It is the pipeline of `searchShards`
 * (src/search/index/query.ts) spread over the live nodes, in as few rounds as exactness allows:
 *
 * 1. analyze the query into weighted terms (once, here);
 * 2. take the global statistics of those terms (N, total length, df(t), each document counted
 *    once: by its *primary*) from this coordinator's `GlobalStatsCache`, or, for terms it has
 *    not seen, ask every live node for its primaries' statistics and sum them;
 * 3. ask every live node to score its primaries with those statistics. Each node answers its
 *    top k *and its own statistics for the query terms, computed in the same synchronous step
 *    as its scoring*. If the sum of the nodes' statistics equals the statistics used, every
 *    score is exactly the one-index score and the merged top k is the answer; if not (a write
 *    landed since the statistics were taken), the round is run again with the sum;
 * 4. with RM3: the nodes return the term vectors of their own best documents with the first
 *    round (the global best are among them), the query is expanded here, and 2-3 run again;
 * 5. the final round also returns the metadata and snippets of each node's hits when the page
 *    is small; a deeper page fetches them for the page's hits afterwards.
 *
 * So a query whose terms were seen before, on an unchanged collection, costs one round (two
 * with RM3) of one request per node. A node that fails in any step is left out, and the whole
 * query runs again over the remaining live nodes (each document's next owner then becomes its
 * primary); after `maxAttempts` the last answer is returned as incomplete. No timers or clocks
 * here: the transport is injected.
 */
import {
  analyzeQuery,
  combineStats,
  dfOf,
  expandQuery,
  feedbackDocuments,
  feedbackOptions,
  mergeTopK,
  type Language,
  type LocalStats,
  type QueryTerm,
  type SearchOptions,
} from '../index/index.js';
import type { HitDetails, RemoteSearchReply } from './local-node.js';
import type { WireHitType, WireStatsType } from './schemas.js';
import { FeedbackCache } from './feedback-cache.js';
import type { GlobalStatsCache } from './stats-cache.js';

export type { RemoteSearchReply } from './local-node.js';

/** What the coordinator asks of a node (locally or over the network). */
export interface NodeCaller {
  stats(nodeId: number, terms: string[], live: readonly number[]): Promise<WireStatsType>;
  search(nodeId: number, body: RemoteSearch): Promise<RemoteSearchReply>;
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
  /** Return the term vectors of this many of the node's best hits (RM3's first round). */
  readonly vectors?: number;
  /** Return the metadata (and snippets highlighting `terms`) of this many of the best hits. */
  readonly details?: {
    readonly terms: string[];
    readonly snippets: boolean;
    readonly hits: number;
  };
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
  /** Scoring rounds run (across attempts), and statistics rounds among the requests. */
  readonly rounds: { readonly scoring: number; readonly stats: number };
}

/** Options of `coordinateSearch`. */
export interface CoordinateOptions {
  /** Attempts, each without the nodes that failed before (default 3). */
  readonly maxAttempts?: number;
  readonly onNodeFailed?: (nodeId: number) => void;
  /** The coordinator's statistics seen so far (none: every query gathers them first). */
  readonly statsCache?: GlobalStatsCache;
  /** The coordinator's RM3 expansions seen so far (none: every query runs both rounds). */
  readonly feedbackCache?: FeedbackCache;
}

/** Extra hits per node beyond its share that get term vectors or details inline. */
export const INLINE_MARGIN = 3;
/** Pages at most this deep get their details with the last scoring round. */
export const INLINE_DETAILS_MAX_DEPTH = 20;
/**
 * Scoring rounds of one scatter when writes keep changing the statistics between rounds; the
 * last one is then accepted, scored with statistics at most one round old (as a separate
 * statistics round followed by a scoring round would be).
 */
export const MAX_SCORING_ROUNDS = 3;

const emptyStats = (): WireStatsType => ({ doc_count: 0, total_length: 0, df: {} });

function toLocal(stats: WireStatsType): LocalStats {
  return { docCount: stats.doc_count, totalLength: stats.total_length, df: stats.df };
}

function sumStats(parts: readonly (WireStatsType | undefined)[]): WireStatsType {
  const combined = combineStats(parts.map((part) => toLocal(part ?? emptyStats())));
  return { doc_count: combined.docCount, total_length: combined.totalLength, df: combined.df };
}

/** Whether two statistics agree on N, the total length and the df of every term. */
function sameStats(a: WireStatsType, b: WireStatsType, terms: readonly string[]): boolean {
  if (a.doc_count !== b.doc_count || a.total_length !== b.total_length) return false;
  return terms.every((term) => dfOf(toLocal(a), term) === dfOf(toLocal(b), term));
}

/** Whether every node reported the version it had when the expansion was computed. */
function sameVersions(now: readonly (string | undefined)[], then: readonly string[]): boolean {
  return now.length === then.length && now.every((version, i) => version === then[i]);
}

/** One attempt over a fixed live set; records the nodes that failed or answered. */
class Attempt {
  readonly failed = new Set<number>();
  readonly answered = new Set<number>();
  readonly rounds = { scoring: 0, stats: 0 };
  private readonly vectors: Record<string, Record<string, number>> = Object.create(null) as Record<
    string,
    Record<string, number>
  >;
  private readonly details = new Map<string, HitDetails>();
  /** Each live node's index version in the last accepted round (live-id order). */
  private versions: (string | undefined)[] = [];

  constructor(
    private readonly caller: NodeCaller,
    private readonly live: readonly number[],
    private readonly query: DistributedQuery,
    private readonly original: string[],
    private readonly caches: Pick<CoordinateOptions, 'statsCache' | 'feedbackCache'>,
  ) {}

  private get cache(): GlobalStatsCache | undefined {
    return this.caches.statsCache;
  }

  async run(terms: QueryTerm[]): Promise<NodeHit[]> {
    const depth = this.query.offset + this.query.k;
    const last: Pick<RemoteSearch, 'details'> =
      depth <= INLINE_DETAILS_MAX_DEPTH
        ? {
            details: {
              terms: this.original,
              snippets: this.query.snippets ?? true,
              hits: this.inlineShare(depth),
            },
          }
        : {};
    const feedback = feedbackOptions({ feedback: this.query.feedback });
    if (feedback === undefined) return this.scatter(terms, depth, last);
    const cache = this.caches.feedbackCache;
    const key = FeedbackCache.key(terms, this.live, [this.query.search, feedback]);
    const cached = cache?.get(key);
    if (cached !== undefined) {
      // The first round is skipped only if every node still has the index it had then.
      const hits = await this.scatter(cached.expanded, depth, last);
      if (this.failed.size > 0 || sameVersions(this.versions, cached.versions)) return hits;
      cache?.drop(key);
      this.details.clear();
    }
    const first = await this.scatter(terms, feedback.fbDocs, {
      vectors: this.inlineShare(feedback.fbDocs),
    });
    const firstVersions = this.versions;
    const vectors = await this.vectorsOf(first);
    const expanded = expandQuery(terms, feedbackDocuments(first, vectors), feedback);
    const hits = await this.scatter(expanded, depth, last);
    const versions = firstVersions.filter((version) => version !== undefined);
    if (this.failed.size === 0 && versions.length === this.live.length)
      cache?.set(key, { expanded, versions });
    return hits;
  }

  /**
   * How many of its best hits each node returns term vectors or details for, when `wanted`
   * hits of the merged list need them: a node's share, plus a margin. A node holding more of
   * the merged list than that (rare) is asked for the rest afterwards, so the answer is the
   * same; what is saved is computing and sending them for hits that do not make the list.
   */
  private inlineShare(wanted: number): number {
    return Math.min(wanted, Math.ceil(wanted / this.live.length) + INLINE_MARGIN);
  }

  /** The page's metadata and snippets: from the last round, else from the node of each hit. */
  async withDetails(page: readonly NodeHit[], terms: string[]): Promise<NodeHit[]> {
    const missing = page.filter((hit) => !this.details.has(hit.doc_id));
    const snippets = this.query.snippets ?? true;
    const parts = await Promise.all(
      [...groupByNode(missing)].map(([nodeId, ids]) =>
        this.guard(nodeId, () => this.caller.details(nodeId, ids, terms, snippets)),
      ),
    );
    for (const part of parts)
      for (const [docId, found] of Object.entries(part ?? {})) this.details.set(docId, found);
    return page.map((hit) => {
      const found = this.details.get(hit.doc_id);
      return { ...hit, snippet: found?.snippet ?? '', metadata: found?.metadata ?? {} };
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

  /** Every live node's primary statistics for `terms`, summed (and remembered). */
  private async gatherStats(terms: string[]): Promise<WireStatsType> {
    this.rounds.stats += 1;
    const parts = await Promise.all(
      this.live.map((nodeId) =>
        this.guard(nodeId, () => this.caller.stats(nodeId, terms, this.live)),
      ),
    );
    const stats = sumStats(parts);
    if (this.failed.size === 0) this.cache?.store(this.live, terms, stats);
    return stats;
  }

  /**
   * Scores `query` on every live node with the best statistics known, until the statistics the
   * nodes report with their hits equal the ones used (see the file comment).
   */
  private async scatter(
    query: QueryTerm[],
    depth: number,
    extras: Pick<RemoteSearch, 'vectors' | 'details'>,
  ): Promise<NodeHit[]> {
    const terms = query.map((term) => term.term);
    let stats = this.cache?.lookup(this.live, terms) ?? (await this.gatherStats(terms));
    for (let round = 1; ; round += 1) {
      this.rounds.scoring += 1;
      const body: RemoteSearch = {
        query,
        stats,
        k: depth,
        options: this.query.search,
        live: this.live,
        ...extras,
      };
      const replies = await Promise.all(
        this.live.map(async (nodeId) => {
          const reply = await this.guard(nodeId, () => this.caller.search(nodeId, body));
          return reply === undefined ? undefined : { nodeId, reply };
        }),
      );
      const answered = replies.filter((part) => part !== undefined);
      const actual = sumStats(answered.map((part) => part.reply.stats));
      // With a node missing the sums cannot match; the attempt is re-run without it anyway.
      const settled = this.failed.size > 0 || sameStats(stats, actual, terms);
      if (this.failed.size === 0) this.cache?.store(this.live, terms, actual);
      if (settled || round >= MAX_SCORING_ROUNDS) return this.accept(answered, depth);
      stats = actual;
    }
  }

  /** Merges the nodes' hits and keeps what came with them (term vectors, details). */
  private accept(
    answered: readonly { nodeId: number; reply: RemoteSearchReply }[],
    depth: number,
  ): NodeHit[] {
    const versions = new Map(answered.map(({ nodeId, reply }) => [nodeId, reply.version]));
    this.versions = this.live.map((nodeId) => versions.get(nodeId));
    for (const { reply } of answered) {
      Object.assign(this.vectors, reply.vectors ?? {});
      for (const [docId, found] of Object.entries(reply.details ?? {}))
        this.details.set(docId, found);
    }
    return mergeTopK(
      answered.map(({ nodeId, reply }) =>
        reply.hits.map((hit): NodeHit => ({ ...hit, node_id: nodeId })),
      ),
      depth,
    );
  }

  /** Term vectors of the hits: from the first round's answers, else from their nodes. */
  private async vectorsOf(
    hits: readonly NodeHit[],
  ): Promise<Record<string, Record<string, number>>> {
    const missing = hits.filter((hit) => !Object.hasOwn(this.vectors, hit.doc_id));
    const parts = await Promise.all(
      [...groupByNode(missing)].map(([nodeId, ids]) =>
        this.guard(nodeId, () => this.caller.termVectors(nodeId, ids)),
      ),
    );
    for (const part of parts) if (part !== undefined) Object.assign(this.vectors, part);
    return this.vectors;
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
 * With a `statsCache`, statistics seen by earlier queries are tried first (see the file comment).
 */
export async function coordinateSearch(
  caller: NodeCaller,
  liveIds: readonly number[],
  query: DistributedQuery,
  options: CoordinateOptions = {},
): Promise<SearchOutcome> {
  const terms = analyzeQuery(query.text, query.language);
  const original = terms.map((term) => term.term);
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const failed = new Set<number>();
  const rounds = { scoring: 0, stats: 0 };
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
        rounds,
      };
    }
    const run = new Attempt(caller, live, query, original, options);
    const merged = await run.run(terms);
    rounds.scoring += run.rounds.scoring;
    rounds.stats += run.rounds.stats;
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
        rounds,
      };
    }
    for (const nodeId of run.failed) {
      if (!failed.has(nodeId)) options.onNodeFailed?.(nodeId);
      failed.add(nodeId);
    }
  }
}
