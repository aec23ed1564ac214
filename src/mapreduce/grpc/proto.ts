/**
 * Loads proto/mapreduce.proto with @grpc/proto-loader and answers the service definitions and
 * client constructors of `WorkerService` and `JobService`.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientSecurity } from '../../core/security-context.js';
import { callMetadata } from './security.js';

/** proto/mapreduce.proto, found from src/ and from dist/ alike (both sit three levels down). */
export const PROTO_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'proto',
  'mapreduce.proto',
);

/** A generated client class of one service. */
export type ServiceClientConstructor = grpc.ServiceClientConstructor;

interface MapReducePackage {
  WorkerService: ServiceClientConstructor;
  JobService: ServiceClientConstructor;
}

let loaded: MapReducePackage | undefined;

/** The package `tessera.mapreduce`, loaded once. */
export function mapReduceProto(): MapReducePackage {
  if (loaded) return loaded;
  const definition = protoLoader.loadSync(PROTO_PATH, {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
    objects: false,
    oneofs: true,
  });
  const root = grpc.loadPackageDefinition(definition) as unknown as {
    tessera: { mapreduce: MapReducePackage };
  };
  loaded = root.tessera.mapreduce;
  return loaded;
}

/** Largest gRPC message, both ways: a job spec carries its JS modules (up to 1 MiB each). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Channel options of our clients and servers. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  // Reconnect quickly after a master restart (the default backoff grows to 2 minutes).
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

/**
 * Calls a unary method of a generated client as a promise, with a deadline and the client's
 * bearer token (security.ts) in the metadata.
 */
export async function unary<Req, Res>(
  client: grpc.Client,
  method: string,
  request: Req,
  timeoutMs: number,
  security?: ClientSecurity,
): Promise<Res> {
  const metadata = await callMetadata(security);
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, unknown>)[method];
    if (typeof fn !== 'function') {
      reject(new Error(`no gRPC method ${method}`));
      return;
    }
    const deadline = new Date(Date.now() + timeoutMs);
    (
      fn as (r: Req, m: grpc.Metadata, o: grpc.CallOptions, cb: grpc.requestCallback<Res>) => void
    ).call(client, request, metadata, { deadline }, (error, response) => {
      if (error) reject(error);
      else if (response === undefined) reject(new Error(`${method}: empty answer`));
      else resolve(response);
    });
  });
}
