/**
 * The error catalog (STYLE.md, "Errors"): every expected failure that crosses an HTTP boundary
 * is one of these classes, with a stable `code`, an HTTP status and an optional `cause`.
 * The server factory maps them to `application/problem+json` in one place; docs/errors.md
 * lists them and test/core/errors.test.ts keeps the two in sync.
 */

/** One entry of the catalog. */
export interface ErrorSpec {
  readonly code: string;
  readonly status: number;
  readonly title: string;
}

/** Every error code Tessera answers with, its HTTP status and its title. */
export const errorCatalog = {
  BAD_REQUEST: { code: 'BAD_REQUEST', status: 400, title: 'Bad request' },
  VALIDATION_FAILED: { code: 'VALIDATION_FAILED', status: 400, title: 'Request validation failed' },
  MALFORMED_BODY: { code: 'MALFORMED_BODY', status: 400, title: 'Malformed request body' },
  UNAUTHORIZED: { code: 'UNAUTHORIZED', status: 401, title: 'Authentication required' },
  FORBIDDEN: { code: 'FORBIDDEN', status: 403, title: 'Forbidden' },
  NOT_FOUND: { code: 'NOT_FOUND', status: 404, title: 'Not found' },
  METHOD_NOT_ALLOWED: { code: 'METHOD_NOT_ALLOWED', status: 405, title: 'Method not allowed' },
  REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', status: 408, title: 'Request timeout' },
  CONFLICT: { code: 'CONFLICT', status: 409, title: 'Conflict' },
  LEASE_HELD: { code: 'LEASE_HELD', status: 409, title: 'Write lease held by another client' },
  PAYLOAD_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    title: 'Unsupported media type',
  },
  RANGE_NOT_SATISFIABLE: {
    code: 'RANGE_NOT_SATISFIABLE',
    status: 416,
    title: 'Range not satisfiable',
  },
  UNPROCESSABLE: { code: 'UNPROCESSABLE', status: 422, title: 'Unprocessable content' },
  TOO_MANY_REQUESTS: { code: 'TOO_MANY_REQUESTS', status: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: {
    code: 'HEADERS_TOO_LARGE',
    status: 431,
    title: 'Request header fields too large',
  },
  INTERNAL: { code: 'INTERNAL', status: 500, title: 'Internal server error' },
  BAD_GATEWAY: { code: 'BAD_GATEWAY', status: 502, title: 'A peer service failed' },
  UNAVAILABLE: { code: 'UNAVAILABLE', status: 503, title: 'Service unavailable' },
  TIMEOUT: { code: 'TIMEOUT', status: 504, title: 'A peer service timed out' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;

/** The body of an `application/problem+json` answer (RFC 9457). */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extension: string]: unknown;
}

/** Base class of every cataloged error. */
export class TesseraError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly extensions: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    detail: string,
    options: { cause?: unknown; extensions?: Record<string, unknown> } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    const spec = errorCatalog[code];
    this.name = new.target.name;
    this.code = code;
    this.status = spec.status;
    this.title = spec.title;
    this.extensions = options.extensions ?? {};
  }

  /** The problem+json body for this error. */
  toProblem(): ProblemDetails {
    return problemFor(this.code, this.message, this.extensions);
  }
}

/** Builds a problem+json body for a cataloged code. */
export function problemFor(
  code: ErrorCode,
  detail: string,
  extensions: Record<string, unknown> = {},
): ProblemDetails {
  const spec = errorCatalog[code];
  return {
    ...extensions,
    type: `https://tessera.dev/errors/${code.toLowerCase().replaceAll('_', '-')}`,
    title: spec.title,
    status: spec.status,
    detail,
    code,
  };
}

export class BadRequestError extends TesseraError {
  constructor(detail: string, extensions?: Record<string, unknown>) {
    super('BAD_REQUEST', detail, extensions ? { extensions } : {});
  }
}

export class NotFoundError extends TesseraError {
  constructor(detail: string, extensions?: Record<string, unknown>) {
    super('NOT_FOUND', detail, extensions ? { extensions } : {});
  }
}

export class ConflictError extends TesseraError {
  constructor(detail: string, extensions?: Record<string, unknown>) {
    super('CONFLICT', detail, extensions ? { extensions } : {});
  }
}

export class UnavailableError extends TesseraError {
  constructor(detail: string, cause?: unknown) {
    super('UNAVAILABLE', detail, cause === undefined ? {} : { cause });
  }
}
