/**
 * Timeouts of every service's HTTP server (docs/fuzzing.md): how long a client may take to send
 * its headers and its whole request, and how long a connection may stay silent. A client that
 * trickles bytes is cut off (408 or a closed connection) instead of holding a socket forever.
 *
 * The options are common to every service; `logEffectiveConfig` applies them process-wide and
 * `createHttpServer` reads them, like the security options. An option left unset keeps the
 * service's own default (a datanode and the dashboard allow long uploads).
 */
import { parseDurationMs, type ConfigSchema, type OptionSpec } from './config.js';

/** The timeouts one HTTP server applies; `undefined` leaves the service's default. */
export interface HttpLimits {
  /** Time allowed to receive the request line and headers. */
  readonly headersTimeoutMs?: number | undefined;
  /** Time allowed to receive the whole request, body included. */
  readonly requestTimeoutMs?: number | undefined;
  /** Silence (nothing read or written) after which a connection is closed; 0 turns it off. */
  readonly idleTimeoutMs?: number | undefined;
}

/** Defaults when neither the operator nor the service sets a value. */
export const DEFAULT_HTTP_LIMITS = {
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 60_000,
  // Longer than the longest legitimate silence: a registry blocking query waits up to 10 min.
  idleTimeoutMs: 15 * 60_000,
} as const;

function optionalDuration(spec: {
  flag: string;
  env: readonly string[];
  showDefault: string;
  description: string;
}): OptionSpec<number | undefined> {
  return {
    ...spec,
    valueName: '<seconds>',
    defaultValue: undefined,
    parse: (raw) => (raw === '' ? undefined : parseDurationMs(raw)),
  };
}

/** The timeout options every service takes (listed once in the configuration reference). */
export function httpLimitOptions() {
  return {
    httpHeadersTimeoutMs: optionalDuration({
      flag: 'http-headers-timeout',
      env: ['TESSERA_HTTP_HEADERS_TIMEOUT'],
      showDefault: '30s',
      description: 'Time a client may take to send a request’s headers (then 408).',
    }),
    httpRequestTimeoutMs: optionalDuration({
      flag: 'http-request-timeout',
      env: ['TESSERA_HTTP_REQUEST_TIMEOUT'],
      showDefault: '60s; datanode 15m; web: --upload-timeout',
      description: 'Time a client may take to send a whole request, body included (then 408).',
    }),
    httpIdleTimeoutMs: optionalDuration({
      flag: 'http-idle-timeout',
      env: ['TESSERA_HTTP_IDLE_TIMEOUT'],
      showDefault: '15m',
      description: 'Silence after which a connection is closed (0 turns the check off).',
    }),
  } satisfies ConfigSchema;
}

let installed: HttpLimits = {};

/** Sets the timeouts of the servers this process creates from now on (from its config). */
export function applyHttpLimits(values: {
  httpHeadersTimeoutMs?: number | undefined;
  httpRequestTimeoutMs?: number | undefined;
  httpIdleTimeoutMs?: number | undefined;
}): HttpLimits {
  installed = {
    headersTimeoutMs: values.httpHeadersTimeoutMs,
    requestTimeoutMs: values.httpRequestTimeoutMs,
    idleTimeoutMs: values.httpIdleTimeoutMs,
  };
  return installed;
}

/** What `applyHttpLimits` installed (nothing, in tests that build servers in-process). */
export function processHttpLimits(): HttpLimits {
  return installed;
}

/** Node's server settings for the limits: operator's value > service's value > default. */
export function resolveHttpLimits(
  operator: HttpLimits,
  service: HttpLimits,
): {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  connectionsCheckingIntervalMs: number;
} {
  const requestTimeoutMs =
    operator.requestTimeoutMs ?? service.requestTimeoutMs ?? DEFAULT_HTTP_LIMITS.requestTimeoutMs;
  const headersSetting =
    operator.headersTimeoutMs ?? service.headersTimeoutMs ?? DEFAULT_HTTP_LIMITS.headersTimeoutMs;
  // Node requires headersTimeout <= requestTimeout (0 means no request timeout).
  const headersTimeoutMs =
    requestTimeoutMs > 0 ? Math.min(headersSetting, requestTimeoutMs) : headersSetting;
  const idleTimeoutMs =
    operator.idleTimeoutMs ?? service.idleTimeoutMs ?? DEFAULT_HTTP_LIMITS.idleTimeoutMs;
  // Node checks the two timeouts only every connectionsCheckingInterval (default 30 s): check
  // often enough that a timeout fires within about a quarter of its length.
  const shortest = Math.min(headersTimeoutMs, requestTimeoutMs || Infinity);
  const connectionsCheckingIntervalMs = Math.max(100, Math.min(30_000, Math.floor(shortest / 4)));
  return { headersTimeoutMs, requestTimeoutMs, idleTimeoutMs, connectionsCheckingIntervalMs };
}
