/**
 * Signing in to the dashboard of a web server started with `--auth` (issue 7; docs/web.md,
 * "Signing in"). A browser cannot add `Authorization: Bearer` to the event stream, to download
 * links or to a page load, so the user's token travels in a cookie instead:
 *
 * - `POST /api/session {token}` checks the token with the server's own authorizer (the one the
 *   auth hook uses) and sets it as an HttpOnly, SameSite=Strict cookie (Secure under TLS) that
 *   lives exactly as long as the token; an invalid or expired token is a 401 problem+json.
 * - The auth hook of `createHttpServer` (option `authCookie`) accepts that cookie on every route,
 *   so every call of the app carries the user's token without code in each page, and the role
 *   table decides as for any other client.
 * - `GET /api/session` answers who is signed in (401 when nobody is); `DELETE /api/session`
 *   clears the cookie.
 * - Cross-site requests: SameSite=Strict keeps the cookie off requests other sites start, and a
 *   request that changes something with the cookie must also say `content-type:
 *   application/json` or carry the `x-tessera-csrf` header, which a cross-site form cannot send.
 */
import assert from 'node:assert/strict';
import { Type } from '@sinclair/typebox';
import { ConflictError } from '../core/errors.js';
import { cookieValue, sendProblem, type HttpApp } from '../core/http-server.js';
import type { Principal, RequestAuthorizer } from '../core/security-context.js';
import { bearerToken } from '../security/authorizer.js';
import type { SessionView } from './api-types.js';
import { clearedSessionCookie, sessionCookie, SESSION_COOKIE } from './session-cookie.pure.js';

export { SESSION_COOKIE } from './session-cookie.pure.js';

/** The header the app adds to its requests that change something (with the cookie). */
export const CSRF_HEADER = 'x-tessera-csrf';

export interface SessionDeps {
  /** The web server's authorizer; undefined when it runs without `--auth`. */
  readonly authorizer: RequestAuthorizer | undefined;
  /** Mark the cookie Secure (the web server serves HTTPS). */
  readonly secureCookie: boolean;
  readonly nowMs: () => number;
}

const SignInBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 8192, description: 'An API token (JWT)' }) },
  { additionalProperties: false },
);

const tags = ['web-session'];

/** The session routes and, with `--auth`, the cross-site request check. */
export function registerSessionRoutes(app: HttpApp, deps: SessionDeps): void {
  if (deps.authorizer !== undefined) installCsrfCheck(app);

  app.post(
    '/api/session',
    {
      schema: { tags, summary: 'Sign in: check a token and keep it in a cookie', body: SignInBody },
      // The token in the body is the credential; the route checks it itself.
      config: { access: { role: 'public' } },
    },
    async (request, reply) => {
      if (deps.authorizer === undefined) {
        throw new ConflictError('this dashboard runs without --auth: there is nothing to sign in');
      }
      const token = request.body.token.trim();
      const decision = await deps.authorizer.authorize({
        method: 'GET',
        route: '/api/session',
        headers: { authorization: `Bearer ${token}` },
        params: {},
        access: { role: 'reader' },
      });
      if (!decision.ok || decision.principal === null) {
        const detail = decision.ok ? 'the token names nobody' : decision.detail;
        void reply.header('www-authenticate', 'Bearer realm="tessera"');
        return sendProblem(reply, 'UNAUTHORIZED', detail);
      }
      const expiresAtMs = await tokenExpiryMs(token);
      const maxAgeS = Math.floor((expiresAtMs - deps.nowMs()) / 1000);
      if (maxAgeS <= 0) return sendProblem(reply, 'UNAUTHORIZED', 'the token has expired');
      void reply.header('set-cookie', sessionCookie(token, maxAgeS, deps.secureCookie));
      return signedIn(decision.principal, expiresAtMs);
    },
  );

  app.get(
    '/api/session',
    { schema: { tags, summary: 'Who is signed in (401 when nobody is)' } },
    async (request) => {
      if (deps.authorizer === undefined) {
        const open: SessionView = { auth: false };
        return open;
      }
      // The auth hook let the request in, so it carried a valid token (bearer or cookie).
      const principal = request.principal;
      const token =
        bearerToken(request.headers.authorization) ??
        cookieValue(request.headers.cookie, SESSION_COOKIE);
      assert(principal !== null && token !== undefined, 'GET /api/session passed without a token');
      return signedIn(principal, await tokenExpiryMs(token));
    },
  );

  app.delete(
    '/api/session',
    {
      schema: { tags, summary: 'Sign out: clear the session cookie' },
      // Clearing one's own cookie needs no valid token (it may have just expired).
      config: { access: { role: 'public' } },
    },
    async (_request, reply) => {
      void reply.header('set-cookie', clearedSessionCookie(deps.secureCookie));
      return { status: 'signed-out' };
    },
  );
}

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A request that changes something and is authenticated by the session cookie (no
 * `Authorization` header, which another site's page could not add) needs a JSON content type
 * or the `x-tessera-csrf` header: neither can come from a cross-site form or a simple
 * cross-origin request, so another site cannot act with the user's cookie even where
 * SameSite is not enforced.
 */
function installCsrfCheck(app: HttpApp): void {
  app.addHook('onRequest', async (request, reply) => {
    if (SAFE_METHODS.has(request.method) || request.headers.authorization !== undefined) {
      return undefined;
    }
    if (cookieValue(request.headers.cookie, SESSION_COOKIE) === undefined) return undefined;
    const type = request.headers['content-type'] ?? '';
    if (/^application\/json\b/i.test(type) || request.headers[CSRF_HEADER] !== undefined) {
      return undefined;
    }
    return sendProblem(
      reply,
      'FORBIDDEN',
      `a signed-in request that changes something needs content-type application/json or the ${CSRF_HEADER} header (cross-site requests are refused)`,
    );
  });
}

function signedIn(principal: Principal, expiresAtMs: number): SessionView {
  return {
    auth: true,
    subject: principal.subject,
    role: principal.role,
    groups: [...principal.groups],
    expires_at_ms: expiresAtMs,
  };
}

/**
 * The `exp` of a token the authorizer has just accepted (its signature verified), in Unix ms.
 * jose is loaded here only, so a dashboard without `--auth` never loads it.
 */
async function tokenExpiryMs(token: string): Promise<number> {
  const { decodeJwt } = await import('jose');
  const { exp } = decodeJwt(token);
  if (exp === undefined) throw new Error('an accepted token without exp');
  return exp * 1000;
}
