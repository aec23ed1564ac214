/**
 * The errors of the resilient HTTP client (src/core/http-client.ts). One class per condition,
 * each with a stable `code`, the HTTP status a Tessera service answers when it passes the
 * failure on to its own caller (`httpStatus`), and the underlying error as `cause`.
 *
 * Hierarchy: `PeerUnavailableError` (the peer could not be reached or did not answer in time)
 * has two refinements, `PeerTimeoutError` and `CircuitOpenError`; catching the base class
 * covers all three. `HttpStatusError` means the peer did answer, with a non-2xx status.
 */

/** An RFC 9457 problem document, as Tessera services answer errors (DESIGN.md rule 6). */
export interface ProblemDetails {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

/** What every client error says about the request that failed. */
export interface FailedRequest {
  /** The peer's origin, e.g. `http://127.0.0.1:9201`. */
  readonly peer: string;
  readonly method: string;
  readonly url: string;
  /** How many times the request was sent (0 when the circuit refused it). */
  readonly attempts: number;
  readonly cause?: unknown;
}

/** The common base: code, status to answer, and the request. */
export abstract class HttpClientError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;
  readonly peer: string;
  readonly method: string;
  readonly url: string;
  readonly attempts: number;

  constructor(message: string, request: FailedRequest) {
    super(message, request.cause === undefined ? undefined : { cause: request.cause });
    this.name = new.target.name;
    this.peer = request.peer;
    this.method = request.method;
    this.url = request.url;
    this.attempts = request.attempts;
  }
}

/** The peer could not be reached: connection refused or reset, DNS failure, retries exhausted. */
export class PeerUnavailableError extends HttpClientError {
  readonly code: string = 'PEER_UNAVAILABLE';
  readonly httpStatus: number = 503;

  constructor(request: FailedRequest, message = describeUnavailable(request)) {
    super(message, request);
  }
}

/** The peer accepted the connection but sent no headers, or stalled the body, within the timeout. */
export class PeerTimeoutError extends PeerUnavailableError {
  override readonly code: string = 'PEER_TIMEOUT';
  override readonly httpStatus: number = 504;

  constructor(
    request: FailedRequest,
    readonly timeoutMs: number,
  ) {
    super(request, `${request.method} ${request.url}: no answer within ${timeoutMs} ms`);
  }
}

/** The peer's circuit breaker is open: the call failed fast, without touching the network. */
export class CircuitOpenError extends PeerUnavailableError {
  override readonly code: string = 'CIRCUIT_OPEN';
  override readonly httpStatus: number = 503;

  constructor(
    request: FailedRequest,
    /** Milliseconds until the breaker lets a trial call through. */
    readonly retryAfterMs: number,
  ) {
    super(
      request,
      `${request.method} ${request.url}: circuit open for ${request.peer}, ` +
        `retry in ${Math.ceil(retryAfterMs)} ms`,
    );
  }
}

/** The peer answered with a non-2xx status (thrown by the JSON helpers, never by `request`). */
export class HttpStatusError extends HttpClientError {
  readonly code: string = 'PEER_HTTP_STATUS';
  /** A peer's failure becomes a bad gateway for our own caller. */
  readonly httpStatus: number = 502;

  constructor(
    request: FailedRequest,
    /** The peer's status code. */
    readonly status: number,
    /** The peer's problem+json body, when it sent one. */
    readonly problem: ProblemDetails | undefined,
  ) {
    const reason = problem?.detail ?? problem?.title ?? '';
    super(
      `${request.method} ${request.url} answered ${status}${reason ? `: ${reason}` : ''}`,
      request,
    );
  }
}

/** The peer answered 2xx with a body that is not the JSON expected, or is too large. */
export class PeerResponseError extends HttpClientError {
  readonly code: string = 'PEER_BAD_RESPONSE';
  readonly httpStatus: number = 502;

  constructor(request: FailedRequest, reason: string) {
    super(`${request.method} ${request.url}: ${reason}`, request);
  }
}

function describeUnavailable(request: FailedRequest): string {
  const cause = request.cause instanceof Error ? `: ${request.cause.message}` : '';
  const tries = request.attempts === 1 ? '1 attempt' : `${request.attempts} attempts`;
  return `${request.method} ${request.url}: peer ${request.peer} unavailable after ${tries}${cause}`;
}

/**
 * How a failed attempt counts for the retry and breaker rules: `unsent` (the request never
 * left: connection refused, connect timeout, DNS failure; safe to retry any request),
 * `timeout` (no headers, or a stalled body), `connection` (reset or dropped once sent),
 * `aborted` (the caller's signal), `other` (not a transport failure: rethrown as is).
 */
export type TransportFault = 'unsent' | 'timeout' | 'connection' | 'aborted' | 'other';

const unsentCodes = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN']);
const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const connectionCodes = new Set([
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
]);
const unreachableCodes = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);

/** Sorts an error raised by undici (or by the caller's abort) into a `TransportFault`. */
export function classifyTransportError(
  error: unknown,
  signal: AbortSignal | undefined,
): TransportFault {
  if (signal?.aborted) return 'aborted';
  const code = errorCode(error);
  if (code === undefined) return 'other';
  if (unsentCodes.has(code)) return 'unsent';
  if (timeoutCodes.has(code)) return 'timeout';
  return connectionCodes.has(code) || unreachableCodes.has(code) ? 'connection' : 'other';
}

/** The problem+json document of an error answer, when the peer sent one. */
export function parseProblem(text: string, contentType: string): ProblemDetails | undefined {
  if (!/json/i.test(contentType) || text.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as ProblemDetails)
      : undefined;
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
