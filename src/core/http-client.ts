import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Agent, type Dispatcher } from 'undici';
import { backoffDelayMs, resolveBackoffConfig, type BackoffConfig } from './backoff.js';
import {
  CircuitBreaker,
  circuitStateValue,
  type BreakerConfig,
  type CircuitState,
} from './breaker.js';
import { systemClock, type Clock } from './clock.js';
import {
  CircuitOpenError,
  classifyTransportError,
  HttpStatusError,
  parseProblem,
  PeerResponseError,
  PeerTimeoutError,
  PeerUnavailableError,
  type FailedRequest,
  type TransportFault,
} from './errors-http-client.js';
import { systemRandom, type Random } from './random.js';
import { processClientSecurity, type ClientSecurity } from './security-context.js';

/**
 * The resilient HTTP client: the one way a Tessera service talks to another (DESIGN.md rule 4),
 * and the fault-tolerance middleware of poneglyph-reduce.md. Per peer origin it keeps an undici
 * keep-alive pool and a circuit breaker; each request gets a timeout and, when it is safe,
 * retries with exponential backoff and jitter. Breaker states and outcomes are Prometheus
 * metrics, and `breakers()` lists them for the dashboards.
 *
 * Retry rules. A request is retried (at most `maxRetries` times) when it is idempotent (GET,
 * HEAD, PUT, DELETE, OPTIONS, or `idempotent: true`) and failed with a connection error, a
 * timeout or a status in `retryStatuses` (502, 503, 504). A non-idempotent request is retried
 * only when it provably never left this process: connection refused, connect timeout, DNS
 * failure. A `Readable` body can be sent once, so such a request is never retried; pass a
 * function returning a fresh stream instead to make it retryable.
 *
 * Breaker rules. Every attempt is one call through the peer's breaker: connection errors,
 * timeouts and 5xx answers are failures; any other answer is a success (a 4xx means the peer
 * is healthy and the request was wrong). An open circuit fails the call at once with
 * `CircuitOpenError`. Breakers are kept per origin and never evicted: a cluster has a bounded
 * set of peers.
 */

/** HTTP methods the client sends. */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'OPTIONS';

/** A request body: bytes, a one-shot stream, or a factory of streams (which makes it retryable). */
export type RequestBody = string | Buffer | Uint8Array | Readable | (() => Readable);

/** Waits `ms`, rejecting early with the signal's reason if it aborts. Injected by tests. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Options of one request. */
export interface RequestOptions {
  /** Default `GET`. */
  readonly method?: HttpMethod;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
  /** Aborts the request and any backoff wait; the abort reason is thrown as is. */
  readonly signal?: AbortSignal;
  /** Marks a request safe to repeat; default true for GET, HEAD, PUT, DELETE, OPTIONS. */
  readonly idempotent?: boolean;
  /** Overrides the client's `timeoutMs` for this request. */
  readonly timeoutMs?: number;
  /** Overrides the client's `maxRetries` for this request. */
  readonly maxRetries?: number;
}

/** Options of the JSON helpers: a request without method and raw body. */
export type JsonRequestOptions = Omit<RequestOptions, 'method' | 'body'>;

/** The answer of `request`: status, headers and the body as a stream the caller must consume. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Read it, pipe it or call `body.dump()`: an unread body holds its pooled connection. */
  readonly body: Dispatcher.ResponseData['body'];
  readonly peer: string;
  /** How many times the request was sent. */
  readonly attempts: number;
}

/** What `breakers()` reports for one peer. */
export interface BreakerSnapshot {
  readonly peer: string;
  readonly state: CircuitState;
  readonly consecutiveFailures: number;
  readonly halfOpenSuccesses: number;
  readonly openedAtMs: number | null;
  readonly retryAfterMs: number;
  readonly transitions: number;
  readonly opens: number;
}

/** Client configuration; every field is optional and documents its default. */
export interface HttpClientOptions {
  /** Keep-alive connections per peer origin. Default 32. */
  readonly connectionsPerOrigin?: number;
  /** Idle time before a pooled connection is closed, in ms. Default 4_000 (undici's). */
  readonly keepAliveTimeoutMs?: number;
  /** TCP connect timeout, in ms. Default 5_000. */
  readonly connectTimeoutMs?: number;
  /** Per-request timeout, for the headers and for each stall of the body, in ms. Default 10_000. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt. Default 3 (the seed's "max retries"). */
  readonly maxRetries?: number;
  /** Statuses retried for idempotent requests. Default [502, 503, 504]. */
  readonly retryStatuses?: readonly number[];
  /** Backoff between retries. Default `defaultBackoffConfig` (100 ms base, 10 s cap, ±20%). */
  readonly backoff?: Partial<BackoffConfig>;
  /** Per-peer breaker. Default `defaultBreakerConfig` (5 failures, 60 s open, 3 successes). */
  readonly breaker?: Partial<BreakerConfig>;
  /** Largest body the JSON helpers read, in bytes. Default 32 MiB. */
  readonly maxJsonBytes?: number;
  /** Headers sent with every request. Default `{ 'user-agent': 'tessera' }`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Registers the client's metrics here when given. Default: no metrics. */
  readonly registry?: Registry;
  /** Default `systemClock`. */
  readonly clock?: Clock;
  /** Default `systemRandom`. */
  readonly random?: Random;
  /** Default: a real timer. */
  readonly sleep?: Sleep;
  /** Called when a peer's breaker changes state, e.g. to log it. Default: nothing. */
  readonly onBreakerTransition?: (peer: string, from: CircuitState, to: CircuitState) => void;
  /**
   * Token and TLS settings (docs/security.md); null sends no token and trusts the system CAs.
   * Default: what this process installed, else `TESSERA_TOKEN` / `TESSERA_TLS_*`, else none.
   */
  readonly security?: ClientSecurity | null;
}

/** The resolved settings of a client: the part of `HttpClientOptions` that is plain values. */
export type HttpClientSettings = Readonly<
  Required<Omit<HttpClientOptions, 'backoff' | 'breaker' | Injected>>
>;
type Injected = 'registry' | 'clock' | 'random' | 'sleep' | 'onBreakerTransition' | 'security';

/** The defaults of `HttpClientOptions`. */
export const defaultHttpClientOptions: HttpClientSettings = Object.freeze({
  connectionsPerOrigin: 32,
  keepAliveTimeoutMs: 4_000,
  connectTimeoutMs: 5_000,
  timeoutMs: 10_000,
  maxRetries: 3,
  retryStatuses: Object.freeze([502, 503, 504]),
  maxJsonBytes: 32 * 1024 * 1024,
  headers: Object.freeze({ 'user-agent': 'tessera' }),
});

const idempotentMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** One prepared call: the resolved per-request settings. */
interface Call {
  readonly request: FailedRequest;
  readonly target: URL;
  readonly options: RequestOptions;
  readonly method: HttpMethod;
  readonly idempotent: boolean;
  readonly timeoutMs: number;
  readonly maxRetries: number;
}

/** What one attempt came to. */
type Attempt<T> =
  | { readonly kind: 'answer'; readonly status: number; readonly value: T }
  | { readonly kind: 'retry-status'; readonly status: number }
  | { readonly kind: 'error'; readonly error: unknown; readonly status?: number };

type Consume<T> = (response: Dispatcher.ResponseData, call: Call) => Promise<T>;

/** The resilient HTTP client; see the module comment for its rules. */
export class HttpClient {
  private readonly agent: Agent;
  private readonly breakersByPeer = new Map<string, CircuitBreaker>();
  private readonly settings: HttpClientSettings;
  private readonly backoff: BackoffConfig;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly sleep: Sleep;
  private readonly metrics: ClientMetrics | undefined;
  private readonly security: ClientSecurity | undefined;
  private readonly metricsSource = (): BreakerSnapshot[] => this.breakers();

  constructor(private readonly options: HttpClientOptions = {}) {
    this.settings = resolveSettings(options);
    this.backoff = resolveBackoffConfig(options.backoff);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.sleep = options.sleep ?? defaultSleep;
    this.security =
      options.security === undefined ? processClientSecurity() : (options.security ?? undefined);
    this.agent = new Agent({
      connections: this.settings.connectionsPerOrigin,
      keepAliveTimeout: this.settings.keepAliveTimeoutMs,
      connect: { timeout: this.settings.connectTimeoutMs, ...tlsConnectOptions(this.security) },
    });
    this.metrics = options.registry ? clientMetrics(options.registry) : undefined;
    this.metrics?.sources.add(this.metricsSource);
  }

  /** Sends a request and answers status, headers and a streaming body; never throws on a status. */
  async request(url: string | URL, options: RequestOptions = {}): Promise<HttpResponse> {
    const { value, attempts } = await this.execute(url, options, async (response) => response);
    const { statusCode: status, headers, body } = value;
    return { status, headers, body, peer: new URL(url).origin, attempts };
  }

  /** GETs JSON; throws `HttpStatusError` on a non-2xx answer. */
  async getJson<T>(url: string | URL, options: JsonRequestOptions = {}): Promise<T> {
    return this.json<T>('GET', url, undefined, options);
  }

  /** POSTs a JSON body and reads the JSON answer (undefined when empty). */
  async postJson<T>(
    url: string | URL,
    body: unknown,
    options: JsonRequestOptions = {},
  ): Promise<T> {
    return this.json<T>('POST', url, body, options);
  }

  /** PUTs a JSON body and reads the JSON answer (undefined when empty). */
  async putJson<T>(url: string | URL, body: unknown, options: JsonRequestOptions = {}): Promise<T> {
    return this.json<T>('PUT', url, body, options);
  }

  /** DELETEs and reads the JSON answer (undefined when empty, as for a 204). */
  async deleteJson<T = undefined>(url: string | URL, options: JsonRequestOptions = {}): Promise<T> {
    return this.json<T>('DELETE', url, undefined, options);
  }

  /** The breaker of every peer called so far, as of now. */
  breakers(): BreakerSnapshot[] {
    return [...this.breakersByPeer].map(([peer, breaker]) => ({
      peer,
      ...breaker.snapshot(),
      retryAfterMs: breaker.retryAfterMs(),
    }));
  }

  /**
   * Outside evidence that the peer at `url` is back (a node heartbeats again after it was
   * declared dead): an open circuit lets trial calls through now instead of after `openMs`.
   */
  peerIsBack(url: string | URL): void {
    this.breakersByPeer.get(new URL(url).origin)?.peerBack();
  }

  /** Destroys the pools (in-flight requests fail) and unregisters from the metrics. */
  async close(): Promise<void> {
    this.metrics?.sources.delete(this.metricsSource);
    await this.agent.destroy();
  }

  private async json<T>(
    method: HttpMethod,
    url: string | URL,
    payload: unknown,
    options: JsonRequestOptions,
  ): Promise<T> {
    const accept = { accept: 'application/json, application/problem+json' };
    const request: RequestOptions =
      payload === undefined
        ? { ...options, method, headers: mergeHeaders(accept, options.headers) }
        : {
            ...options,
            method,
            headers: mergeHeaders(accept, { 'content-type': 'application/json' }, options.headers),
            body: JSON.stringify(payload),
          };
    const maxBytes = this.settings.maxJsonBytes;
    const { value: answer, attempts } = await this.execute(
      url,
      request,
      async (response, call) => ({
        status: response.statusCode,
        contentType: String(response.headers['content-type'] ?? ''),
        text: await readBounded(response.body, maxBytes, call.request),
      }),
    );
    const failed = { ...describe(method, new URL(url)), attempts };
    if (answer.status < 200 || answer.status > 299) {
      throw new HttpStatusError(
        failed,
        answer.status,
        parseProblem(answer.text, answer.contentType),
      );
    }
    return parseJson<T>(answer.text, failed);
  }

  /** The retry loop: one breaker check and one attempt per turn, bounded by `maxRetries`. */
  private async execute<T>(
    url: string | URL,
    options: RequestOptions,
    consume: Consume<T>,
  ): Promise<{ value: T; attempts: number }> {
    const call = this.prepare(url, options);
    const breaker = this.breakerFor(call.request.peer);
    let lastError: unknown;
    for (let attempt = 0; ; attempt += 1) {
      if (!breaker.allows()) {
        this.countOutcome(call, 'circuit_open');
        const request = { ...call.request, attempts: attempt, cause: lastError };
        throw new CircuitOpenError(request, breaker.retryAfterMs());
      }
      const isLast = attempt >= call.maxRetries || !resendable(options.body);
      const result = await this.attempt(call, consume, isLast);
      const fault =
        result.kind === 'error' ? classifyTransportError(result.error, options.signal) : undefined;
      const event = breakerEvent(result, fault);
      if (event) breaker.record(event);
      if (result.kind === 'answer') {
        this.countOutcome(call, statusOutcome(result.status));
        return { value: result.value, attempts: attempt + 1 };
      }
      if (result.kind === 'error') {
        lastError = result.error;
        if (isLast || fault === undefined || !retryable(call, fault)) {
          throw this.failure(call, result.error, fault, attempt + 1);
        }
      }
      this.metrics?.retries.inc({ peer: call.request.peer });
      await this.sleep(backoffDelayMs(attempt, this.backoff, this.random), options.signal).catch(
        (error: unknown) => {
          this.countOutcome(call, 'aborted');
          throw error;
        },
      );
    }
  }

  /** Sends once; a retryable status is drained here so that its connection returns to the pool. */
  private async attempt<T>(call: Call, consume: Consume<T>, isLast: boolean): Promise<Attempt<T>> {
    let status: number | undefined;
    try {
      const tokenSource = this.security?.authorization;
      const authorization = tokenSource === undefined ? undefined : await tokenSource();
      const response = await this.agent.request({
        origin: call.target.origin,
        path: `${call.target.pathname}${call.target.search}`,
        method: call.method,
        headers: mergeHeaders(
          this.settings.headers,
          authorization === undefined ? undefined : { authorization },
          call.options.headers,
        ),
        body: materialize(call.options.body),
        signal: call.options.signal ?? null,
        headersTimeout: call.timeoutMs,
        bodyTimeout: call.timeoutMs,
      });
      status = response.statusCode;
      if (!isLast && call.idempotent && this.settings.retryStatuses.includes(status)) {
        await response.body.dump().catch(() => undefined);
        return { kind: 'retry-status', status };
      }
      return { kind: 'answer', status, value: await consume(response, call) };
    } catch (error) {
      return status === undefined ? { kind: 'error', error } : { kind: 'error', error, status };
    }
  }

  /** The error thrown once the loop gives up on a failed attempt. */
  private failure(
    call: Call,
    error: unknown,
    fault: TransportFault | undefined,
    attempts: number,
  ): unknown {
    if (fault === 'aborted' || fault === 'other' || fault === undefined) {
      this.countOutcome(call, fault === 'aborted' ? 'aborted' : 'error');
      return error;
    }
    this.countOutcome(call, fault === 'timeout' ? 'timeout' : 'unavailable');
    const request = { ...call.request, attempts, cause: error };
    return fault === 'timeout'
      ? new PeerTimeoutError(request, call.timeoutMs)
      : new PeerUnavailableError(request);
  }

  private prepare(url: string | URL, options: RequestOptions): Call {
    const target = new URL(url);
    // In a TLS cluster every peer speaks TLS: no request leaves in plaintext.
    if (this.security?.httpsOnly === true && target.protocol === 'http:')
      target.protocol = 'https:';
    assert.ok(
      target.protocol === 'http:' || target.protocol === 'https:',
      `not an HTTP URL: ${target.href}`,
    );
    const method = options.method ?? 'GET';
    return {
      request: { ...describe(method, target), attempts: 0 },
      target,
      options,
      method,
      idempotent: options.idempotent ?? idempotentMethods.has(method),
      timeoutMs: options.timeoutMs ?? this.settings.timeoutMs,
      maxRetries: options.maxRetries ?? this.settings.maxRetries,
    };
  }

  private breakerFor(peer: string): CircuitBreaker {
    let breaker = this.breakersByPeer.get(peer);
    if (!breaker) {
      const listener = this.options.onBreakerTransition;
      breaker = new CircuitBreaker(this.clock, this.options.breaker, (from, to) =>
        listener?.(peer, from, to.state),
      );
      this.breakersByPeer.set(peer, breaker);
    }
    return breaker;
  }

  private countOutcome(call: Call, outcome: string): void {
    this.metrics?.requests.inc({ peer: call.request.peer, outcome });
  }
}

/** undici connect options for TLS peers: the cluster CA (beside the system ones), the client cert. */
function tlsConnectOptions(security: ClientSecurity | undefined): Record<string, unknown> {
  if (security === undefined) return {};
  return {
    ...(security.ca === undefined ? {} : { ca: [...rootCertificates, security.ca.toString()] }),
    ...(security.cert === undefined || security.key === undefined
      ? {}
      : { cert: security.cert, key: security.key }),
  };
}

function retryable(call: Call, fault: TransportFault): boolean {
  if (fault === 'unsent') return true;
  return call.idempotent && (fault === 'timeout' || fault === 'connection');
}

/** Connection trouble and 5xx are breaker failures; aborts and our own errors are neither. */
function breakerEvent<T>(
  result: Attempt<T>,
  fault: TransportFault | undefined,
): 'success' | 'failure' | undefined {
  if (result.kind === 'error') {
    if (fault === 'unsent' || fault === 'timeout' || fault === 'connection') return 'failure';
    return result.status === undefined ? undefined : result.status >= 500 ? 'failure' : 'success';
  }
  return result.status >= 500 ? 'failure' : 'success';
}

function statusOutcome(status: number): string {
  return status >= 500 ? 'server_error' : status >= 400 ? 'client_error' : 'success';
}

function resendable(body: RequestBody | undefined): boolean {
  return !(body instanceof Readable);
}

function materialize(
  body: RequestBody | undefined,
): string | Buffer | Uint8Array | Readable | null {
  if (body === undefined) return null;
  return typeof body === 'function' ? body() : body;
}

function describe(method: string, target: URL): Omit<FailedRequest, 'attempts'> {
  return { peer: target.origin, method, url: target.href };
}

async function readBounded(
  body: Readable,
  maxBytes: number,
  request: FailedRequest,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > maxBytes) {
      body.destroy();
      throw new PeerResponseError(request, `answer larger than ${maxBytes} bytes`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson<T>(text: string, request: FailedRequest): T {
  if (text.trim() === '') return undefined as T;
  try {
    // The caller's T is a claim about the peer's contract; it is not validated here.
    return JSON.parse(text) as T;
  } catch (error) {
    throw new PeerResponseError({ ...request, cause: error }, 'answer is not valid JSON');
  }
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  await sleepTimer(ms, undefined, signal ? { signal } : {});
}

function resolveSettings(options: HttpClientOptions): HttpClientSettings {
  const d = defaultHttpClientOptions;
  const settings: HttpClientSettings = {
    connectionsPerOrigin: options.connectionsPerOrigin ?? d.connectionsPerOrigin,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? d.keepAliveTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? d.connectTimeoutMs,
    timeoutMs: options.timeoutMs ?? d.timeoutMs,
    maxRetries: options.maxRetries ?? d.maxRetries,
    retryStatuses: options.retryStatuses ?? d.retryStatuses,
    maxJsonBytes: options.maxJsonBytes ?? d.maxJsonBytes,
    headers: mergeHeaders(d.headers, options.headers),
  };
  assert.ok(Number.isInteger(settings.maxRetries) && settings.maxRetries >= 0, 'maxRetries >= 0');
  assert.ok(settings.timeoutMs > 0 && settings.connectTimeoutMs > 0, 'timeouts must be > 0');
  assert.ok(Number.isInteger(settings.connectionsPerOrigin) && settings.connectionsPerOrigin >= 1);
  return settings;
}

/** Merges header records; names are case-insensitive, so they are lower-cased, later ones win. */
function mergeHeaders(
  ...records: (Readonly<Record<string, string>> | undefined)[]
): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const record of records) {
    for (const [name, value] of Object.entries(record ?? {})) merged[name.toLowerCase()] = value;
  }
  return merged;
}

/** The client metrics of one registry, shared by every client registered on it. */
interface ClientMetrics {
  readonly requests: Counter<'peer' | 'outcome'>;
  readonly retries: Counter<'peer'>;
  readonly sources: Set<() => BreakerSnapshot[]>;
}

const metricsByRegistry = new WeakMap<Registry, ClientMetrics>();

function clientMetrics(registry: Registry): ClientMetrics {
  const existing = metricsByRegistry.get(registry);
  if (existing) return existing;
  const sources = new Set<() => BreakerSnapshot[]>();
  const metrics: ClientMetrics = {
    requests: new Counter({
      name: 'tessera_http_client_requests_total',
      help: 'Requests to peers by final outcome (success, client_error, server_error, timeout, unavailable, circuit_open, aborted, error).',
      labelNames: ['peer', 'outcome'],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'tessera_http_client_retries_total',
      help: 'Retries of requests to peers.',
      labelNames: ['peer'],
      registers: [registry],
    }),
    sources,
  };
  new Gauge({
    name: 'tessera_circuit_breaker_state',
    help: 'Circuit breaker state per peer: 0 closed, 1 half-open, 2 open.',
    labelNames: ['peer'],
    registers: [registry],
    collect() {
      this.reset(); // peers of closed clients disappear
      for (const source of sources) {
        for (const snapshot of source())
          this.set({ peer: snapshot.peer }, circuitStateValue(snapshot.state));
      }
    },
  });
  metricsByRegistry.set(registry, metrics);
  return metrics;
}
