/**
 * The request authorizer every service installs with `--auth` (issue 7): it checks the bearer
 * token against the role the route needs (roles.ts) and, on datanode chunk routes, accepts a
 * chunk token the metadata master signed for that chunk and operation instead.
 *
 * 401: no token, or one that is malformed, tampered with, expired or meant for something else.
 * 403: a valid token whose role is too weak, or a chunk token for another chunk or operation.
 */
import type { Clock } from '../core/clock.js';
import type {
  AuthDecision,
  AuthRequest,
  Principal,
  RequestAuthorizer,
} from '../core/security-context.js';
import { CLOCK_TOLERANCE_S, type TokenKeys } from './keys.js';
import { requiredAccess, roleAtLeast, type Role } from './roles.js';

/** The header that carries a chunk token to a datanode. */
export const CHUNK_TOKEN_HEADER = 'x-tessera-chunk-token';

type Tokens = typeof import('./tokens.js');
let tokensModule: Promise<Tokens> | undefined;

/** The JWT functions, loaded on first use (a service without auth never loads jose). */
export function loadTokens(): Promise<Tokens> {
  tokensModule ??= import('./tokens.js');
  return tokensModule;
}

/**
 * API tokens verified recently, by their exact text: a token is used for many requests (a
 * service's for an hour), and a JWT verification costs about 100 µs (WebCrypto) against about
 * 1 µs for a lookup. A tampered token is other text, so it misses and is verified. The expiry is
 * checked again on every hit; the oldest entry goes when the cache is full.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(private readonly maxEntries = 2048) {}

  /** The principal of a cached token still valid at `nowMs` (expired ones are dropped). */
  get(token: string, nowMs: number): Principal | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs + CLOCK_TOLERANCE_MS <= nowMs) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.principal;
  }

  set(token: string, principal: Principal, expiresAtMs: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { principal, expiresAtMs });
  }
}

const CLOCK_TOLERANCE_MS = CLOCK_TOLERANCE_S * 1000;

/** Checks API tokens and chunk tokens signed with `keys`, at the time `clock` gives. */
export class TokenAuthorizer implements RequestAuthorizer {
  private readonly verified = new VerifiedTokenCache();

  constructor(
    private readonly keys: TokenKeys,
    private readonly clock: Clock,
  ) {}

  async authorize(request: AuthRequest): Promise<AuthDecision> {
    const need = requiredAccess(request.method, request.route, request.access);
    if (need === 'public') return { ok: true, principal: null };
    const bearer = bearerToken(request.headers['authorization']);
    let principal: Principal | undefined;
    let failure = 'this API needs a token: send Authorization: Bearer <token>';
    if (bearer !== undefined) {
      const check = await this.verifyApiToken(bearer);
      if (check.ok && roleAtLeast(check.principal.role, need)) {
        return { ok: true, principal: check.principal };
      }
      if (check.ok) principal = check.principal;
      else failure = check.reason;
    }
    const chunkDecision = await this.chunkGrant(request, principal);
    if (chunkDecision !== undefined) return chunkDecision;
    if (principal !== undefined) return forbidden(principal, need, request);
    return { ok: false, status: 401, detail: failure };
  }

  /** An API token's principal, from the cache or a verification. */
  private async verifyApiToken(
    token: string,
  ): Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> {
    const nowMs = this.clock.nowMs();
    const cached = this.verified.get(token, nowMs);
    if (cached !== undefined) return { ok: true, principal: cached };
    const tokens = await loadTokens();
    const check = await tokens.verifyApiToken(this.keys, token, nowMs);
    if (!check.ok) return check;
    this.verified.set(token, check.value, check.expiresAtMs);
    return { ok: true, principal: check.value };
  }

  /** A chunk token's verdict on a chunk route; undefined when none applies. */
  private async chunkGrant(
    request: AuthRequest,
    principal: Principal | undefined,
  ): Promise<AuthDecision | undefined> {
    const op = request.access.chunkAccess;
    const token = single(request.headers[CHUNK_TOKEN_HEADER]);
    if (op === undefined || token === undefined) return undefined;
    const chunkId = request.params['chunk_id'];
    if (typeof chunkId !== 'string') return undefined;
    const tokens = await loadTokens();
    const check = await tokens.verifyChunkToken(
      this.keys,
      token,
      { chunkId, op },
      this.clock.nowMs(),
    );
    if (check.ok) {
      const subject = principal?.subject ?? check.value.subject;
      return { ok: true, principal: principal ?? { subject, role: 'reader', groups: [] } };
    }
    return {
      ok: false,
      status: check.forbidden === true ? 403 : 401,
      detail: `chunk token refused: ${check.reason}`,
    };
  }
}

function forbidden(principal: Principal, need: Role, request: AuthRequest): AuthDecision {
  const what = `${request.method} ${request.route ?? 'this path'}`;
  return {
    ok: false,
    status: 403,
    detail: `${principal.subject} has role ${principal.role}; ${what} needs ${need}`,
  };
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = single(header);
  const match = value === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(value);
  return match?.[1];
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
