/**
 * JSON Web Tokens (dfs-architecture.md, "Autenticación": "Tokens JWT incluyen permisos y
 * expiración"; "DataNodes validan tokens antes de servir chunks"), signed and verified with
 * jose, HS256, from one shared secret.
 *
 * Two kinds, with keys derived apart from the secret so that one can never pass for the other:
 * - API tokens (`aud` `tessera-api`): `sub`, `role` (reader, writer, admin), `groups`, `exp`.
 *   Users get them from `tessera token create`; every service mints its own (role admin,
 *   subject `service:<name>`) for the calls it makes to its peers.
 * - Chunk tokens (`aud` `tessera-chunk`): the metadata master hands one per chunk and operation
 *   (`cid`, `op` read or write, a short `exp`) to a client it allowed; a datanode serves or
 *   stores that chunk for whoever presents it.
 */
import type { KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { CLOCK_TOLERANCE_S, type ChunkOperation, type TokenKeys } from './keys.js';
import { parseRole, type Principal, type Role } from './roles.js';

export const TOKEN_ISSUER = 'tessera';
export const API_AUDIENCE = 'tessera-api';
export const CHUNK_AUDIENCE = 'tessera-chunk';

/** What an API token says. */
export interface ApiTokenClaims {
  readonly subject: string;
  readonly role: Role;
  readonly groups?: readonly string[];
  readonly ttlMs: number;
}

/** The outcome of a verification: the claims, or why the token is refused. */
export type TokenCheck<T> =
  | { readonly ok: true; readonly value: T; readonly expiresAtMs: number }
  | { readonly ok: false; readonly reason: string };

/** Signs an API token valid for `ttlMs` from `nowMs`. */
export async function issueApiToken(
  keys: TokenKeys,
  claims: ApiTokenClaims,
  nowMs: number,
): Promise<string> {
  return sign(keys.api, API_AUDIENCE, claims.subject, nowMs, claims.ttlMs, {
    role: claims.role,
    groups: [...(claims.groups ?? [])],
  });
}

/** Verifies an API token at `nowMs`: signature, issuer, audience, expiry, role. */
export async function verifyApiToken(
  keys: TokenKeys,
  token: string,
  nowMs: number,
): Promise<TokenCheck<Principal>> {
  const checked = await verify(keys.api, API_AUDIENCE, token, nowMs);
  if (!checked.ok) return checked;
  const { payload } = checked;
  const role = parseRole(payload['role']);
  const groups = payload['groups'] ?? [];
  if (role === undefined) return { ok: false, reason: 'the token names no valid role' };
  if (!Array.isArray(groups) || !groups.every((g) => typeof g === 'string')) {
    return { ok: false, reason: 'the token’s groups are not a list of names' };
  }
  const principal: Principal = { subject: payload.sub ?? '', role, groups };
  return { ok: true, value: principal, expiresAtMs: (payload.exp ?? 0) * 1000 };
}

/** What a chunk token grants. */
export interface ChunkGrant {
  readonly chunkId: string;
  readonly op: ChunkOperation;
  /** Who the master granted it to (for the datanode's logs). */
  readonly subject: string;
}

/** Signs a chunk token for one chunk and operation, valid for `ttlMs`. */
export async function issueChunkToken(
  keys: TokenKeys,
  grant: ChunkGrant,
  nowMs: number,
  ttlMs: number,
): Promise<string> {
  return sign(keys.chunk, CHUNK_AUDIENCE, grant.subject, nowMs, ttlMs, {
    cid: grant.chunkId,
    op: grant.op,
  });
}

/** Verifies a chunk token for `chunkId` and `op` at `nowMs`. */
export async function verifyChunkToken(
  keys: TokenKeys,
  token: string,
  wanted: { chunkId: string; op: ChunkOperation },
  nowMs: number,
): Promise<TokenCheck<ChunkGrant> & { forbidden?: boolean }> {
  const checked = await verify(keys.chunk, CHUNK_AUDIENCE, token, nowMs);
  if (!checked.ok) return checked;
  const { payload } = checked;
  if (payload['cid'] !== wanted.chunkId) {
    return { ok: false, forbidden: true, reason: 'the chunk token is for another chunk' };
  }
  if (payload['op'] !== wanted.op) {
    return { ok: false, forbidden: true, reason: `the chunk token does not grant ${wanted.op}` };
  }
  const grant = { chunkId: wanted.chunkId, op: wanted.op, subject: payload.sub ?? '' };
  return { ok: true, value: grant, expiresAtMs: (payload.exp ?? 0) * 1000 };
}

async function sign(
  key: KeyObject,
  audience: string,
  subject: string,
  nowMs: number,
  ttlMs: number,
  claims: Record<string, unknown>,
): Promise<string> {
  const issuedAtS = Math.floor(nowMs / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(audience)
    .setSubject(subject)
    .setIssuedAt(issuedAtS)
    .setExpirationTime(issuedAtS + Math.max(1, Math.ceil(ttlMs / 1000)))
    .sign(key);
}

async function verify(
  key: KeyObject,
  audience: string,
  token: string,
  nowMs: number,
): Promise<{ ok: true; payload: JWTPayload } | { ok: false; reason: string }> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: TOKEN_ISSUER,
      audience,
      currentDate: new Date(nowMs),
      clockTolerance: CLOCK_TOLERANCE_S,
      requiredClaims: ['exp', 'sub'],
    });
    return { ok: true, payload };
  } catch (error) {
    return { ok: false, reason: refusal(error) };
  }
}

/** A short reason for a refused token; never echoes the token. */
function refusal(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'the token’s signature does not verify (tampered, or signed with another secret)';
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `the token’s "${error.claim}" claim is not valid here`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is not signed with HS256';
  if (error instanceof errors.JOSEError) return 'the token is malformed';
  throw error;
}
