import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Duplex } from 'node:stream';
import { Server as TlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { HttpClientError } from './errors-http-client.js';
import { problemFor, TesseraError, type ErrorCode } from './errors.js';
import { processHttpLimits, resolveHttpLimits } from './http-limits.js';
import { createServiceMetrics, type ServiceMetrics } from './metrics.js';
import {
  processServerSecurity,
  type Principal,
  type RequestAuthorizer,
  type RouteAccess,
  type ServerSecurity,
  type ServerTlsSettings,
} from './security-context.js';
import { TESSERA_VERSION } from './version.js';

/** A Fastify instance whose routes are typed by their TypeBox schemas. */
export type HttpApp = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

export interface HttpServerOptions {
  /** Service name, used in logs, metrics and the OpenAPI title. */
  readonly name: string;
  readonly logger: Logger;
  readonly description?: string;
  /** Largest accepted request body (default 1 MiB). Streaming routes opt out per route. */
  readonly bodyLimitBytes?: number;
  /** Extra figures for `GET /health`; throwing or `healthy: false` answers 503. */
  readonly health?: () => Record<string, unknown> & { healthy?: boolean };
  readonly metrics?: ServiceMetrics;
  /**
   * Time allowed to receive a whole request (default 60 s; slow clients are cut off). The
   * operator's `--http-request-timeout` wins over it (src/core/http-limits.ts).
   */
  readonly requestTimeoutMs?: number;
  /** Time allowed to receive the headers (default 30 s; `--http-headers-timeout` wins). */
  readonly headersTimeoutMs?: number;
  /** Silence after which a connection is closed (default 15 min; `--http-idle-timeout` wins). */
  readonly idleTimeoutMs?: number;
  /** Token checks and TLS (docs/security.md). Default: what this process installed, or none. */
  readonly security?: ServerSecurity;
  /**
   * Name of a cookie that may carry the API token instead of `Authorization: Bearer` (the
   * dashboard's sign-in session; docs/web.md). A request with an `Authorization` header is
   * checked by that header alone. Default: none, tokens come only in `Authorization`.
   */
  readonly authCookie?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export { TESSERA_VERSION } from './version.js';

/**
 * Creates the HTTP server every Tessera service is built on (DESIGN.md, rule 6): schema-validated
 * routes, errors as problem+json, body limits, `GET /health`, `GET /metrics`, the OpenAPI
 * document at `/openapi.json` and a docs page at `/docs`. Register routes after awaiting it.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpApp> {
  const security = options.security ?? processServerSecurity();
  const limits = resolveHttpLimits(processHttpLimits(), options);
  // Read by Node's server constructor (http and https alike); requestTimeout is set by Fastify.
  const nodeServerOptions = {
    headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
  };
  const app = Fastify({
    ...httpsOption(security.tls, nodeServerOptions),
    http: nodeServerOptions,
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: 65_000,
    forceCloseConnections: true,
    return503OnClosing: true,
    // Long ids reach our schema validation (a 400 with a reason) instead of a bare 414.
    routerOptions: { maxParamLength: 8192 },
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, _request, reply) => {
      const problem = problemFor('BAD_REQUEST', `malformed URL: ${error.message}`);
      void (reply as FastifyReply).code(400).type(PROBLEM_CONTENT_TYPE).send(problem);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installValidators(app);
  // JSON APIs: a text body is an unsupported media type (415), not a string to validate.
  app.removeContentTypeParser('text/plain');
  const metrics = options.metrics ?? createServiceMetrics(options.name);
  app.decorate('metrics', metrics);

  installErrorHandling(app, options.logger);
  app.decorateRequest('principal', null);
  if (security.authorizer) installAuthorization(app, security.authorizer, options.authCookie);
  installEarlyBodyLimit(app);
  installRequestMetrics(app, metrics);
  await app.register(swagger, {
    openapi: {
      info: {
        title: `Tessera ${options.name}`,
        description: options.description ?? `The ${options.name} service of Tessera.`,
        version: TESSERA_VERSION,
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  installStandardRoutes(app, options, metrics);
  return app;
}

/**
 * Query strings, params and headers arrive as text, so they are coerced to the schema's types;
 * bodies are JSON and are not: `"port": "80"` is a wrong type and answers 400.
 */
function installValidators(app: HttpApp): void {
  const base = {
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: false,
  } as const;
  const coercing = addFormats.default(new Ajv({ ...base, coerceTypes: 'array' }));
  const strict = addFormats.default(new Ajv({ ...base, coerceTypes: false }));
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
}

function installErrorHandling(app: HttpApp, logger: Logger): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof TesseraError) {
      if (error.status === 500) logger.error({ err: error, url: request.url }, error.message);
      else if (error.status > 500)
        logger.warn({ url: request.url, code: error.code }, error.message);
      return sendProblem(reply, error.code, error.message, error.extensions);
    }
    if (error.validation) {
      const context = error.validationContext ?? 'request';
      return sendProblem(
        reply,
        'VALIDATION_FAILED',
        `${context}${error.message.replace(/^\w+/, '')}`,
        {
          errors: error.validation.map((issue) => ({
            path: issue.instancePath || '/',
            message: issue.message ?? 'invalid',
          })),
        },
      );
    }
    if (error instanceof HttpClientError) {
      // A peer's failure is ours to report as 502/503/504, never as a 500.
      const peerCode: ErrorCode =
        error.httpStatus === 504
          ? 'TIMEOUT'
          : error.httpStatus === 503
            ? 'UNAVAILABLE'
            : 'BAD_GATEWAY';
      logger.warn({ err: error, url: request.url }, 'a peer service failed');
      return sendProblem(reply, peerCode, error.message);
    }
    const code = fastifyErrorCode(error);
    if (code !== undefined) return sendProblem(reply, code, error.message);
    logger.error({ err: error, url: request.url, method: request.method }, 'unhandled error');
    return sendProblem(reply, 'INTERNAL', 'The server failed to handle the request; see its log.');
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 'NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`),
  );
}

/**
 * Node's TLS server options for Fastify's `https`. The type of the instance stays `HttpApp`:
 * an HTTPS server has the same API where we use it (listen, address, close).
 */
function httpsOption(
  tls: ServerTlsSettings | undefined,
  nodeServerOptions: Record<string, unknown>,
): { https?: Record<string, unknown> } {
  if (tls === undefined) return {};
  return {
    https: {
      ...nodeServerOptions,
      key: tls.key,
      cert: tls.cert,
      ...(tls.ca === undefined ? {} : { ca: tls.ca }),
      requestCert: tls.requireClientCert,
      rejectUnauthorized: tls.requireClientCert,
      minVersion: 'TLSv1.2',
    },
  };
}

/**
 * The one authentication and authorization hook (docs/security.md): every request but
 * `GET /health` is checked by the authorizer before its body is read; a refusal answers 401
 * (no, invalid or expired token) or 403 (a valid token without the needed role) as
 * problem+json. The caller, when known, is `request.principal` for the handlers. With
 * `authCookie`, a request without an `Authorization` header is checked with the token of that
 * cookie, as if it had come as a bearer token.
 */
function installAuthorization(
  app: HttpApp,
  authorizer: RequestAuthorizer,
  authCookie: string | undefined,
): void {
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    if (route === '/health') return undefined;
    const decision = await authorizer.authorize({
      method: request.method,
      route,
      headers: authCookie === undefined ? request.headers : withCookieToken(request, authCookie),
      params: request.params as Record<string, unknown>,
      access: request.routeOptions.config.access ?? {},
    });
    if (decision.ok) {
      request.principal = decision.principal;
      return undefined;
    }
    // A refused upload is not read: close the connection rather than drain its body.
    if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'])
      void reply.header('connection', 'close');
    if (decision.status === 401) void reply.header('www-authenticate', 'Bearer realm="tessera"');
    return sendProblem(
      reply,
      decision.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN',
      decision.detail,
    );
  });
}

/** The request's headers, with the token of cookie `name` as `Authorization` when it has none. */
function withCookieToken(
  request: FastifyRequest,
  name: string,
): Readonly<Record<string, string | string[] | undefined>> {
  if (request.headers.authorization !== undefined) return request.headers;
  const token = cookieValue(request.headers.cookie, name);
  return token === undefined
    ? request.headers
    : { ...request.headers, authorization: `Bearer ${token}` };
}

/**
 * The value of cookie `name` in a `Cookie` header (RFC 6265, section 5.4: `name=value` pairs
 * separated by `; `), the first when the name repeats; undefined when absent or empty. Values
 * are taken as they are: a token is base64url and dots, which need no decoding.
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator < 0 || pair.slice(0, separator).trim() !== name) continue;
    const value = pair
      .slice(separator + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
    return value === '' ? undefined : value;
  }
  return undefined;
}

/**
 * Node's HTTP parser refuses a request before Fastify sees it (a malformed request line or
 * header, headers over 16 KiB, a client too slow to send its request): answer problem+json
 * like every other error, then close the connection, as Node does.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // The parser keeps failing on what the client still sends while the connection lingers.
  if (error.code === 'ECONNRESET' || socket.destroyed || lingering.has(socket)) return;
  const [code, status, detail]: [ErrorCode, string, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['REQUEST_TIMEOUT', '408 Request Timeout', 'the request was not received in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? ['HEADERS_TOO_LARGE', '431 Request Header Fields Too Large', 'headers too large']
        : ['BAD_REQUEST', '400 Bad Request', `malformed HTTP request (${error.code ?? 'parse'})`];
  // Only when no answer has started on this connection: otherwise just close it.
  const response = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || response?.headersSent === true) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(problemFor(code, detail));
  // Close gracefully: a socket destroyed with unread request bytes is reset, and the reset
  // can discard the answer before the client reads it. Stop parsing, discard what the client
  // still sends, and destroy the socket after a short linger.
  lingering.add(socket);
  socket.removeAllListeners('data');
  socket.resume();
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
}

/** Connections answered by `answerClientError`, closing after their linger. */
const lingering = new WeakSet<Duplex>();

/** How long a connection refused by the HTTP parser lingers (discarding input) before closing. */
const CLIENT_ERROR_LINGER_MS = 2_000;

/** Maps Fastify's own client errors (bad JSON, too large, ...) onto the catalog. */
function fastifyErrorCode(error: FastifyError): ErrorCode | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'MALFORMED_BODY';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'PAYLOAD_TOO_LARGE';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return 'UNSUPPORTED_MEDIA_TYPE';
    default:
      break;
  }
  // A body parser's SyntaxError carries status 400; one thrown by a handler is our bug (500).
  if (error instanceof SyntaxError && error.statusCode === 400) return 'MALFORMED_BODY';
  const status = error.statusCode ?? 500;
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 404) return 'NOT_FOUND';
  if (status >= 400 && status < 500) return 'BAD_REQUEST';
  return undefined;
}

/** Oversized JSON bodies up to this size are read and discarded after the 413 answer. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * A JSON body whose declared length exceeds the route's limit is answered 413 before it is
 * parsed. Fastify's own check closes the connection while the client is still sending, and the
 * client then sees EPIPE or a reset instead of the answer; here the connection stays open and
 * Node discards the rest of the body, so the client reads a problem+json 413. Bodies beyond
 * DRAIN_LIMIT_BYTES are left to Fastify, which closes the connection rather than read them.
 */
function installEarlyBodyLimit(app: HttpApp): void {
  app.addHook('onRequest', (request, reply, done) => {
    const type = request.headers['content-type'] ?? '';
    const declared = Number(request.headers['content-length']);
    const limit = request.routeOptions.bodyLimit;
    const isJson = /^application\/([\w.-]+\+)?json\b/i.test(type);
    if (
      isJson &&
      limit !== undefined &&
      Number.isSafeInteger(declared) &&
      declared > limit &&
      declared <= DRAIN_LIMIT_BYTES
    ) {
      sendProblem(reply, 'PAYLOAD_TOO_LARGE', `body of ${declared} bytes exceeds ${limit}`);
      return;
    }
    done();
  });
}

/** Sends a cataloged problem+json answer. */
export function sendProblem(
  reply: FastifyReply,
  code: ErrorCode,
  detail: string,
  extensions: Record<string, unknown> = {},
): FastifyReply {
  const problem = problemFor(code, detail, extensions);
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

function installRequestMetrics(app: HttpApp, metrics: ServiceMetrics): void {
  // Label children are cached per (method, route, status): resolving labels on every request
  // is a measurable share of a small request's cost (bench/registry.ts).
  const counters = new Map<string, ReturnType<typeof metrics.httpRequests.labels>>();
  const histograms = new Map<string, ReturnType<typeof metrics.httpDuration.labels>>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const routeKey = `${request.method} ${route}`;
    const countKey = `${routeKey} ${reply.statusCode}`;
    let counter = counters.get(countKey);
    if (!counter) {
      counter = metrics.httpRequests.labels(request.method, route, String(reply.statusCode));
      counters.set(countKey, counter);
    }
    let histogram = histograms.get(routeKey);
    if (!histogram) {
      histogram = metrics.httpDuration.labels(request.method, route);
      histograms.set(routeKey, histogram);
    }
    counter.inc();
    histogram.observe(reply.elapsedTime / 1000);
    done();
  });
}

function installStandardRoutes(
  app: HttpApp,
  options: HttpServerOptions,
  metrics: ServiceMetrics,
): void {
  const startedAtMs = Date.now();
  app.get(
    '/health',
    { schema: { summary: 'Liveness and basic figures of this service', tags: ['ops'] } },
    async (_request, reply) => {
      const extra = options.health?.() ?? {};
      const healthy = extra.healthy ?? true;
      return reply.code(healthy ? 200 : 503).send({
        status: healthy ? 'ok' : 'unhealthy',
        service: options.name,
        version: TESSERA_VERSION,
        uptime_s: (Date.now() - startedAtMs) / 1000,
        pid: process.pid,
        ...extra,
      });
    },
  );
  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', tags: ['ops'], hide: false } },
    async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** Starts listening and answers the base URL (`http://host:port`), resolving port 0. */
export async function listen(app: HttpApp, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const scheme = (app.server as unknown) instanceof TlsServer ? 'https' : 'http';
  return `${scheme}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ServiceMetrics;
  }
  interface FastifyRequest {
    /** Who sent the request (from a verified token); null when auth is off or not needed. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Who may call the route (docs/security.md); default by method and the route table. */
    access?: RouteAccess;
  }
}
