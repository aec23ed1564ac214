/**
 * The process-wide security settings the HTTP server factory and the HTTP client apply
 * (docs/security.md). Core defines only the shapes and holds the settings; the policy and the
 * cryptography (JWT verification, roles, chunk tokens, certificates) live in `src/security/`,
 * which builds these settings from a service's configuration and installs them.
 *
 * With nothing installed (the default), servers check no tokens and listen in plaintext, and
 * clients send no token and trust the system CAs: exactly Tessera without security.
 */
import { readFileSync } from 'node:fs';

/** The roles of issue 7, weakest first: each role may do everything the previous ones may. */
export const ROLES = ['reader', 'writer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `have` grants at least what `need` asks for. */
export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Who made a request, from a verified token. */
export interface Principal {
  /** The token's `sub`: a user name, or `service:<name>` for a Tessera service. */
  readonly subject: string;
  readonly role: Role;
  /** Groups the subject belongs to (the token's `groups` claim), for file ACLs. */
  readonly groups: readonly string[];
}

/** Per-route access settings, given as Fastify route `config` (see `RouteAccessConfig`). */
export interface RouteAccess {
  /** Least role a caller needs; `public` opens the route. Default: by method and route table. */
  readonly role?: Role | 'public';
  /**
   * The chunk operation this route performs. A caller without a sufficient role may still pass
   * with a chunk token for the route's `:chunk_id` and this operation (datanode chunk routes).
   */
  readonly chunkAccess?: 'read' | 'write';
}

/** What the auth hook hands the authorizer about one request. */
export interface AuthRequest {
  readonly method: string;
  /** The matched route pattern, e.g. `/servers/:server_id`; undefined when no route matched. */
  readonly route: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly params: Readonly<Record<string, unknown>>;
  readonly access: RouteAccess;
}

/** The authorizer's verdict: go on (with who the caller is), or a 401 / 403 with a reason. */
export type AuthDecision =
  | { readonly ok: true; readonly principal: Principal | null }
  | { readonly ok: false; readonly status: 401 | 403; readonly detail: string };

/** Decides whether a request may reach its route (installed by `src/security`). */
export interface RequestAuthorizer {
  authorize(request: AuthRequest): Promise<AuthDecision>;
}

/** TLS settings of a server: PEM key and certificate, and the CA that client certificates need. */
export interface ServerTlsSettings {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly ca?: Buffer;
  /** Mutual TLS: a client must present a certificate signed by `ca`. */
  readonly requireClientCert: boolean;
}

/** What the HTTP server factory applies. */
export interface ServerSecurity {
  readonly authorizer?: RequestAuthorizer;
  readonly tls?: ServerTlsSettings;
}

/** What the HTTP client applies to every request. */
export interface ClientSecurity {
  /** The `Authorization` header value to send (`Bearer ...`), or undefined for none. */
  readonly authorization?: () => Promise<string | undefined>;
  /** Extra trust and the client certificate, for TLS peers (PEM). */
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /** Upgrade `http:` URLs to `https:`: in a TLS cluster no request goes out in plaintext. */
  readonly httpsOnly: boolean;
}

/** Everything a process applies. */
export interface ProcessSecurity {
  readonly server?: ServerSecurity;
  readonly client?: ClientSecurity;
}

let installed: ProcessSecurity | undefined;

/** Installs the settings of this process (a service does it once, before it starts). */
export function installProcessSecurity(security: ProcessSecurity): void {
  installed = security;
}

/** Removes installed settings (tests). */
export function resetProcessSecurity(): void {
  installed = undefined;
  fromEnvironment = undefined;
}

/** The server settings of this process: installed ones, or none. */
export function processServerSecurity(): ServerSecurity {
  return installed?.server ?? {};
}

/**
 * The client settings of this process: the installed ones (a service), otherwise those of the
 * environment (a CLI or a library user): `TESSERA_TOKEN` is sent as a bearer token,
 * `TESSERA_TLS_CA` is trusted, `TESSERA_TLS_CERT` + `TESSERA_TLS_KEY` are the client
 * certificate for mutual TLS. Undefined when none applies.
 */
export function processClientSecurity(): ClientSecurity | undefined {
  if (installed !== undefined) return installed.client;
  fromEnvironment ??= { value: clientSecurityFromEnv(process.env) };
  return fromEnvironment.value;
}

let fromEnvironment: { value: ClientSecurity | undefined } | undefined;

/** Client settings from environment variables (see `processClientSecurity`). */
export function clientSecurityFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): ClientSecurity | undefined {
  const token = nonEmpty(env['TESSERA_TOKEN']);
  const caPath = nonEmpty(env['TESSERA_TLS_CA']);
  const certPath = nonEmpty(env['TESSERA_TLS_CERT']);
  const keyPath = nonEmpty(env['TESSERA_TLS_KEY']);
  if (token === undefined && caPath === undefined && certPath === undefined) return undefined;
  const bearer = token === undefined ? undefined : `Bearer ${token}`;
  return {
    ...(bearer === undefined ? {} : { authorization: async () => bearer }),
    ...(caPath === undefined ? {} : { ca: readFileSync(caPath) }),
    ...(certPath !== undefined && keyPath !== undefined
      ? { cert: readFileSync(certPath), key: readFileSync(keyPath) }
      : {}),
    httpsOnly: caPath !== undefined,
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
