/**
 * The gRPC side of docs/security.md: the master's gRPC port uses the same settings as every
 * HTTP port of the process (`--tls-*`, `--auth`). With TLS the server presents its certificate
 * (and, with `--tls-client-auth`, requires one from the client); with `--auth` every call needs
 * `authorization: Bearer <token>` metadata with a sufficient role, checked by the same
 * authorizer as the HTTP routes. Clients take TLS trust, their certificate and their token from
 * the process's client settings (a service's own, or `TESSERA_TLS_*` / `TESSERA_TOKEN`).
 */
import * as grpc from '@grpc/grpc-js';
import {
  processClientSecurity,
  processServerSecurity,
  type ClientSecurity,
  type Role,
  type ServerSecurity,
} from '../../core/security-context.js';

/** The credentials of the master's gRPC server. */
export function serverCredentials(
  security: ServerSecurity = processServerSecurity(),
): grpc.ServerCredentials {
  const tls = security.tls;
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.ca ?? null,
    [{ private_key: tls.key, cert_chain: tls.cert }],
    tls.requireClientCert,
  );
}

/** The channel credentials of a client: TLS when the process trusts a CA or is TLS-only. */
export function channelCredentials(
  security: ClientSecurity | undefined = processClientSecurity(),
): grpc.ChannelCredentials {
  if (security === undefined || (!security.httpsOnly && security.ca === undefined))
    return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
    security.ca ?? null,
    security.key ?? null,
    security.cert ?? null,
  );
}

/** The metadata of one call: the bearer token, when the client has one. */
export async function callMetadata(
  security: ClientSecurity | undefined = processClientSecurity(),
): Promise<grpc.Metadata> {
  const metadata = new grpc.Metadata();
  const authorization = await security?.authorization?.();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  return metadata;
}

/** A refused call, as a gRPC error status. */
export interface CallRefusal {
  readonly code: grpc.status;
  readonly details: string;
}

/**
 * Checks a call's token against the role its method needs; undefined when it may proceed.
 * 401 becomes UNAUTHENTICATED and 403 PERMISSION_DENIED.
 */
export async function authorizeCall(
  metadata: grpc.Metadata,
  method: string,
  role: Role,
  security: ServerSecurity = processServerSecurity(),
): Promise<CallRefusal | undefined> {
  if (security.authorizer === undefined) return undefined;
  const [value] = metadata.get('authorization');
  const decision = await security.authorizer.authorize({
    method: 'POST',
    route: `grpc:${method}`,
    headers: { authorization: typeof value === 'string' ? value : undefined },
    params: {},
    access: { role },
  });
  if (decision.ok) return undefined;
  return {
    code: decision.status === 401 ? grpc.status.UNAUTHENTICATED : grpc.status.PERMISSION_DENIED,
    details: decision.detail,
  };
}
