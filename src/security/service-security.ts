/**
 * A service's security options (every service takes them, see core/service.ts) and how they
 * become the process-wide settings the HTTP server factory and the HTTP client apply
 * (core/security-context.ts). docs/security.md explains each one.
 */
import { readFileSync } from 'node:fs';
import { systemClock, type Clock } from '../core/clock.js';
import { ConfigError, option, type ConfigOf } from '../core/config.js';
import {
  installProcessSecurity,
  type ClientSecurity,
  type ServerSecurity,
} from '../core/security-context.js';
import { loadTokens, TokenAuthorizer } from './authorizer.js';
import { loadSecret, tokenKeys, type ChunkOperation, type TokenKeys } from './keys.js';

/** The security options of every service. */
export function securityServiceOptions() {
  return {
    auth: option.boolean({
      flag: 'auth',
      env: ['TESSERA_AUTH'],
      defaultValue: false,
      description:
        'Require a JWT (Authorization: Bearer) on every API but /health; roles reader, writer, admin.',
    }),
    authSecretFile: option.optionalString({
      flag: 'auth-secret-file',
      env: ['TESSERA_AUTH_SECRET_FILE'],
      defaultValue: undefined,
      description:
        'File with the cluster’s shared token secret (HS256; TESSERA_AUTH_SECRET may hold it instead). With it, calls to peers carry a service token.',
      valueName: '<file>',
    }),
    tlsCert: option.optionalString({
      flag: 'tls-cert',
      env: ['TESSERA_TLS_CERT'],
      defaultValue: undefined,
      description:
        'PEM certificate: serve HTTPS only (plaintext is refused); also the client certificate for mutual TLS.',
      valueName: '<file>',
    }),
    tlsKey: option.optionalString({
      flag: 'tls-key',
      env: ['TESSERA_TLS_KEY'],
      defaultValue: undefined,
      description: 'PEM private key of --tls-cert.',
      valueName: '<file>',
    }),
    tlsCa: option.optionalString({
      flag: 'tls-ca',
      env: ['TESSERA_TLS_CA'],
      defaultValue: undefined,
      description: 'PEM CA certificate trusted for peers (tessera certs create makes one).',
      valueName: '<file>',
    }),
    tlsClientAuth: option.boolean({
      flag: 'tls-client-auth',
      env: ['TESSERA_TLS_CLIENT_AUTH'],
      defaultValue: false,
      description: 'Mutual TLS: refuse clients without a certificate signed by --tls-ca.',
    }),
  };
}

/** The values of the security options. */
export type SecurityConfig = ConfigOf<ReturnType<typeof securityServiceOptions>>;

/** What a service applied, for its start-up log. */
export interface AppliedSecurity {
  readonly auth: boolean;
  readonly serviceTokens: boolean;
  readonly tls: boolean;
  readonly mutualTls: boolean;
}

/** Lifetime of the tokens a service mints for itself; renewed a minute before they end. */
export const SERVICE_TOKEN_TTL_MS = 60 * 60_000;
const SERVICE_TOKEN_RENEW_MS = 60_000;

interface ActiveSecurity {
  readonly keys: TokenKeys;
  readonly clock: Clock;
  readonly auth: boolean;
}

let active: ActiveSecurity | undefined;

/**
 * Checks a service's security options, loads its secret and certificates and installs the
 * settings for this process. Throws `ConfigError` on an inconsistent combination.
 */
export function applyServiceSecurity(
  serviceName: string,
  config: SecurityConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
  clock: Clock = systemClock,
): AppliedSecurity {
  const secret = readConfigFile('--auth-secret-file', () => loadSecret(config.authSecretFile, env));
  if (config.auth && secret === undefined) {
    throw new ConfigError('--auth needs --auth-secret-file (or TESSERA_AUTH_SECRET)');
  }
  const keys = secret === undefined ? undefined : secretKeys(secret);
  const tls = loadTls(config);
  const server: ServerSecurity = {
    ...(config.auth && keys ? { authorizer: new TokenAuthorizer(keys, clock) } : {}),
    ...(tls === undefined ? {} : { tls }),
  };
  const client: ClientSecurity = {
    ...(keys === undefined ? {} : { authorization: serviceTokenSource(serviceName, keys, clock) }),
    ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls === undefined ? {} : { cert: tls.cert, key: tls.key }),
    httpsOnly: tls !== undefined,
  };
  installProcessSecurity({ server, client });
  active = keys === undefined ? undefined : { keys, clock, auth: config.auth };
  return {
    auth: config.auth,
    serviceTokens: keys !== undefined,
    tls: tls !== undefined,
    mutualTls: tls?.requireClientCert ?? false,
  };
}

function secretKeys(secret: Buffer): TokenKeys {
  try {
    return tokenKeys(secret);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}

function loadTls(config: SecurityConfig): ServerSecurity['tls'] {
  const { tlsCert, tlsKey, tlsCa } = config;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key go together');
  }
  if (config.tlsClientAuth && (tlsCert === undefined || tlsCa === undefined)) {
    throw new ConfigError('--tls-client-auth needs --tls-cert, --tls-key and --tls-ca');
  }
  if (tlsCert === undefined || tlsKey === undefined) {
    if (tlsCa !== undefined) throw new ConfigError('--tls-ca needs --tls-cert and --tls-key');
    return undefined;
  }
  return {
    cert: readConfigFile('--tls-cert', () => readFileSync(tlsCert)),
    key: readConfigFile('--tls-key', () => readFileSync(tlsKey)),
    ...(tlsCa === undefined ? {} : { ca: readConfigFile('--tls-ca', () => readFileSync(tlsCa)) }),
    requireClientCert: config.tlsClientAuth,
  };
}

function readConfigFile<T>(flag: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`cannot read the file of ${flag}: ${reason}`);
  }
}

/** The `Authorization` value of this service's own token (role admin), renewed before it ends. */
function serviceTokenSource(
  serviceName: string,
  keys: TokenKeys,
  clock: Clock,
): () => Promise<string> {
  let current: { header: string; expiresAtMs: number } | undefined;
  let minting: Promise<string> | undefined;
  const mint = async (): Promise<string> => {
    const { issueApiToken } = await loadTokens();
    const nowMs = clock.nowMs();
    const claims = { subject: `service:${serviceName}`, role: 'admin' as const };
    const token = await issueApiToken(keys, { ...claims, ttlMs: SERVICE_TOKEN_TTL_MS }, nowMs);
    current = { header: `Bearer ${token}`, expiresAtMs: nowMs + SERVICE_TOKEN_TTL_MS };
    return current.header;
  };
  return async () => {
    if (current !== undefined && current.expiresAtMs - clock.nowMs() > SERVICE_TOKEN_RENEW_MS) {
      return current.header;
    }
    minting ??= mint().finally(() => (minting = undefined));
    return minting;
  };
}

/** Issues chunk tokens for the metadata master (see `chunkTokenIssuer`). */
export interface ChunkTokenIssuer {
  issue(chunkId: string, op: ChunkOperation, subject: string): Promise<string>;
}

/** Lifetime of chunk tokens: long enough for one chunk's transfer, short enough to be useless later. */
export const CHUNK_TOKEN_TTL_MS = 15 * 60_000;

/** The chunk-token issuer of this process when it runs with `--auth`; undefined otherwise. */
export function chunkTokenIssuer(): ChunkTokenIssuer | undefined {
  const current = active;
  if (current === undefined || !current.auth) return undefined;
  return {
    async issue(chunkId, op, subject) {
      const { issueChunkToken } = await loadTokens();
      const grant = { chunkId, op, subject };
      return issueChunkToken(current.keys, grant, current.clock.nowMs(), CHUNK_TOKEN_TTL_MS);
    },
  };
}
