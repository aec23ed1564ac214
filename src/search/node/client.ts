/**
 * A client of the search cluster, for the CLI and the other subsystems (e.g. `tessera fs put
 * --index`): finds a search node through the registry (or takes a fixed URL) and indexes or
 * searches there. Any node answers any request, so a failing node is skipped for the next one.
 */
import { HttpStatusError } from '../../core/errors-http-client.js';
import { HttpClient } from '../../core/http-client.js';
import { DiscoveryClient } from '../../registry/index.js';
import { SEARCH_NODE_ROLE } from './cluster-view.js';

/** A document to index (the seed's data model). */
export interface SearchDocument {
  doc_id: string;
  content: string;
  metadata?: Record<string, unknown>;
}

/** A stored document as `GET /doc/{doc_id}` answers it. */
export interface StoredSearchDocument {
  doc_id: string;
  content: string;
  metadata: Record<string, unknown>;
  /** The node that answered. */
  node_id: number;
}

/** A search result as `GET /search` answers it. */
export interface SearchResult {
  doc_id: string;
  score: number;
  node_id: number;
  snippet: string;
  metadata: Record<string, unknown>;
}

/** The answer of `GET /search`. */
export interface SearchResponse {
  query: string;
  total: number;
  took_ms: number;
  nodes_queried: number[];
  partial: boolean;
  results: SearchResult[];
}

/** Options of a search; every field has the node's default when absent. */
export interface SearchRequestOptions {
  k?: number;
  offset?: number;
  lang?: string;
  scoring?: 'bm25' | 'tfidf';
  proximity?: boolean;
  feedback?: boolean;
}

export interface SearchClientOptions {
  /** Registry to find search nodes in (default http://127.0.0.1:9000). */
  readonly registryUrl?: string;
  /** A fixed search node instead of discovery. */
  readonly nodeUrl?: string;
  /** Timeout of one request (default 120 s: a large batch is indexed durably before the answer). */
  readonly timeoutMs?: number;
}

/** A node's answer to `POST /departures/forget`. */
export interface ForgetReply {
  forgotten: number[];
  departed_uncovered: number[];
  documents_may_be_missing: boolean;
}

/** One node's outcome of `forgetDepartures`. */
export type ForgetOutcome =
  | { readonly url: string; readonly reply: ForgetReply }
  | { readonly url: string; readonly error: string };

/** Indexes and searches through any search node. */
export class SearchClient {
  readonly http: HttpClient;
  private readonly discovery: DiscoveryClient | undefined;

  constructor(private readonly options: SearchClientOptions = {}) {
    this.http = new HttpClient({ timeoutMs: options.timeoutMs ?? 120_000, maxRetries: 1 });
    this.discovery =
      options.nodeUrl === undefined
        ? new DiscoveryClient({
            registryUrl: options.registryUrl ?? 'http://127.0.0.1:9000',
            http: this.http,
            strategy: 'random',
          })
        : undefined;
  }

  /** Indexes a batch (k copies each, durable on the answer). */
  async index(
    documents: readonly SearchDocument[],
  ): Promise<{ indexed: number; replicated: number }> {
    return this.withNode((url) =>
      this.http.postJson(`${url}/docs`, { documents }, { idempotent: true }),
    );
  }

  /** Searches the cluster. */
  async search(query: string, options: SearchRequestOptions = {}): Promise<SearchResponse> {
    const params = new URLSearchParams({ q: query });
    for (const [key, value] of Object.entries(options))
      if (value !== undefined) params.set(key, String(value));
    return this.withNode((url) =>
      this.http.getJson<SearchResponse>(`${url}/search?${params.toString()}`),
    );
  }

  /** Deletes a document from every node holding it. */
  async delete(docId: string): Promise<void> {
    await this.withNode((url) => this.http.deleteJson(`${url}/doc/${encodeURIComponent(docId)}`));
  }

  /** A stored document, or undefined when the cluster holds none with this id. */
  async get(docId: string): Promise<StoredSearchDocument | undefined> {
    try {
      return await this.withNode((url) =>
        this.http.getJson<StoredSearchDocument>(`${url}/doc/${encodeURIComponent(docId)}`),
      );
    } catch (error) {
      if (error instanceof HttpStatusError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * Asks every search node (the registry's active ones, or the fixed node) to stop counting
   * `nodeIds` as departed; answers each node's reply, or its error.
   */
  async forgetDepartures(nodeIds: readonly number[]): Promise<ForgetOutcome[]> {
    const urls =
      this.discovery === undefined
        ? [this.options.nodeUrl as string]
        : (await this.discovery.servers(SEARCH_NODE_ROLE)).map((server) => server.url);
    return Promise.all(
      urls.map(async (url): Promise<ForgetOutcome> => {
        try {
          const reply = await this.http.postJson<ForgetReply>(`${url}/departures/forget`, {
            node_ids: nodeIds,
          });
          return { url, reply };
        } catch (error) {
          return { url, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
  }

  /** Whether the registry lists any search node (true with a fixed node URL). */
  async hasNodes(): Promise<boolean> {
    if (this.discovery === undefined) return true;
    return (await this.discovery.servers(SEARCH_NODE_ROLE)).length > 0;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async withNode<T>(call: (url: string) => Promise<T>): Promise<T> {
    if (this.discovery === undefined) return call(this.options.nodeUrl as string);
    return this.discovery.withServer(SEARCH_NODE_ROLE, (server) => call(server.url));
  }
}
