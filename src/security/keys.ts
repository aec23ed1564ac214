/**
 * The shared secret of a cluster and the token keys derived from it (docs/security.md).
 * Kept apart from tokens.ts so that a service loads the JWT library only once auth is on.
 */
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Shortest shared secret accepted, in bytes (HS256 wants at least the hash size). */
export const MIN_SECRET_BYTES = 32;

/** Clock skew tolerated between the machine that signs a token and the one that checks it. */
export const CLOCK_TOLERANCE_S = 30;

/** The chunk operations a chunk token grants. */
export type ChunkOperation = 'read' | 'write';

/** The signing keys of one cluster, derived from its shared secret. */
export interface TokenKeys {
  readonly api: KeyObject;
  readonly chunk: KeyObject;
}

/** Derives the API and chunk keys from the shared secret (throws when it is too short). */
export function tokenKeys(secret: Uint8Array): TokenKeys {
  if (secret.length < MIN_SECRET_BYTES) {
    throw new RangeError(`the auth secret must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const derive = (label: string): KeyObject =>
    createSecretKey(createHmac('sha256', secret).update(label).digest());
  return { api: derive('tessera api tokens v1'), chunk: derive('tessera chunk tokens v1') };
}

/**
 * The secret: the contents of `secretFile` (surrounding whitespace removed), else the
 * `TESSERA_AUTH_SECRET` environment variable; undefined when neither is given.
 */
export function loadSecret(
  secretFile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Buffer | undefined {
  const text =
    secretFile === undefined ? env['TESSERA_AUTH_SECRET'] : readFileSync(secretFile, 'utf8');
  const trimmed = text?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : Buffer.from(trimmed, 'utf8');
}

/** A fresh random secret, as text for a secret file (43 base64url characters, 256 bits). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}
