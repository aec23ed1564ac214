import { errorCatalog, TesseraError, type ErrorCode } from '../core/errors.js';
import { HttpStatusError } from '../core/errors-http-client.js';
import type { Section } from './api-types.js';

/**
 * A peer's client error (4xx: the file is missing, the path exists, the lease is held) is the
 * browser's answer too, so it is passed on with the peer's status and words, and so is a 503
 * (the DFS has no live datanode); anything else is left to the core error handler, which
 * answers 502/503/504.
 */
export function passPeerError(error: unknown): never {
  if (error instanceof HttpStatusError && error.status >= 400 && error.status < 500) {
    const detail = error.problem?.detail ?? error.message;
    throw new TesseraError(codeFor(error), detail, { cause: error });
  }
  if (error instanceof HttpStatusError && error.status === 503) {
    throw new TesseraError('UNAVAILABLE', error.problem?.detail ?? error.message, { cause: error });
  }
  throw error;
}

function codeFor(error: HttpStatusError): ErrorCode {
  const peerCode = error.problem?.['code'];
  if (typeof peerCode === 'string' && peerCode in errorCatalog) {
    const code = peerCode as ErrorCode;
    if (errorCatalog[code].status === error.status) return code;
  }
  const byStatus: Record<number, ErrorCode> = {
    400: 'BAD_REQUEST',
    404: 'NOT_FOUND',
    409: 'CONFLICT',
    413: 'PAYLOAD_TOO_LARGE',
    416: 'RANGE_NOT_SATISFIABLE',
    422: 'UNPROCESSABLE',
    429: 'TOO_MANY_REQUESTS',
  };
  return byStatus[error.status] ?? 'BAD_REQUEST';
}

/** Runs `read` and wraps its value, or its failure as a message for the page to show. */
export async function section<T>(read: () => Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, data: await read() };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
