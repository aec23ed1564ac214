/**
 * The master's gRPC server: `WorkerService` for the workers and `JobService` for clients, over
 * @grpc/grpc-js. Errors of the catalog map onto gRPC status codes (400 -> INVALID_ARGUMENT,
 * 404 -> NOT_FOUND, 409 -> FAILED_PRECONDITION, 503 -> UNAVAILABLE, otherwise INTERNAL).
 */
import * as grpc from '@grpc/grpc-js';
import { TesseraError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Role } from '../../core/security-context.js';
import type { MapReduceMaster } from '../master/master.js';
import type { JobView } from '../master/views.js';
import type { WorkerRpc } from '../master/worker-rpc.js';
import type {
  CodeMessage,
  HeartbeatRequest,
  JobMessage,
  JobRef,
  JobSpecMessage,
  ListJobsRequest,
  RegisterRequest,
  ResultReport,
} from './messages.js';
import { CHANNEL_OPTIONS, mapReduceProto } from './proto.js';
import { authorizeCall, serverCredentials } from './security.js';

/** A started gRPC server. */
export interface GrpcServerHandle {
  /** `host:port` it listens on. */
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

type Handler<Req, Res> = grpc.handleUnaryCall<Req, Res>;

/** Starts the master's gRPC server on `host:port` (0 picks a free port). */
export async function startMasterGrpc(
  master: MapReduceMaster,
  workerRpc: WorkerRpc,
  host: string,
  port: number,
  logger: Logger,
): Promise<GrpcServerHandle> {
  const proto = mapReduceProto();
  const server = new grpc.Server(CHANNEL_OPTIONS);
  server.addService(proto.WorkerService.service, workerHandlers(workerRpc, logger));
  server.addService(proto.JobService.service, jobHandlers(master, logger));
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, serverCredentials(), (error, actual) =>
      error ? reject(error) : resolve(actual),
    );
  });
  return {
    address: `${host}:${bound}`,
    port: bound,
    stop: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2_000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

/** Workers act with their service tokens (admin); job clients need writer to change, reader to read. */
function workerHandlers(rpc: WorkerRpc, logger: Logger): grpc.UntypedServiceImplementation {
  const register: Handler<RegisterRequest, unknown> = (call, callback) =>
    answer(call, callback, logger, 'admin', async () => rpc.register(call.request));
  const heartbeat: Handler<HeartbeatRequest, unknown> = (call, callback) =>
    answer(call, callback, logger, 'admin', () =>
      rpc.heartbeat(call.request, () => call.cancelled),
    );
  const reportResult: Handler<ResultReport, unknown> = (call, callback) =>
    answer(call, callback, logger, 'admin', () => rpc.reportResult(call.request));
  return { Register: register, Heartbeat: heartbeat, ReportResult: reportResult };
}

function jobHandlers(master: MapReduceMaster, logger: Logger): grpc.UntypedServiceImplementation {
  const submit: Handler<JobSpecMessage, JobMessage> = (call, callback) =>
    answer(call, callback, logger, 'writer', async () =>
      jobMessage(await master.submit(specFromMessage(call.request))),
    );
  const get: Handler<JobRef, JobMessage> = (call, callback) =>
    answer(call, callback, logger, 'reader', async () => jobMessage(master.get(call.request.id)));
  const list: Handler<ListJobsRequest, unknown> = (call, callback) =>
    answer(call, callback, logger, 'reader', async () => ({
      jobs: master
        .list({
          ...(call.request.state === '' ? {} : { state: call.request.state }),
          limit: call.request.limit === 0 ? 100 : call.request.limit,
        })
        .map(jobMessage),
    }));
  const cancel: Handler<JobRef, JobMessage> = (call, callback) =>
    answer(call, callback, logger, 'writer', async () =>
      jobMessage(await master.cancel(call.request.id)),
    );
  return { Submit: submit, Get: get, List: list, Cancel: cancel };
}

/**
 * Checks the call's token for `role` (with `--auth`), runs the handler and answers its value or
 * its error as a gRPC status.
 */
function answer<Res>(
  call: grpc.ServerUnaryCall<unknown, unknown>,
  callback: grpc.sendUnaryData<Res>,
  logger: Logger,
  role: Role,
  run: () => Promise<Res>,
): void {
  authorizeCall(call.metadata, call.getPath(), role)
    .then((refusal) => {
      if (refusal !== undefined) {
        callback(refusal);
        return;
      }
      return run().then((value) => callback(null, value));
    })
    .catch((error: unknown) => {
      const status = error instanceof TesseraError ? error.status : 500;
      if (status >= 500) logger.error({ err: error }, 'gRPC handler failed');
      callback({
        code: grpcCode(status),
        details: error instanceof Error ? error.message : String(error),
      });
    });
}

function grpcCode(status: number): grpc.status {
  if (status === 400) return grpc.status.INVALID_ARGUMENT;
  if (status === 404) return grpc.status.NOT_FOUND;
  if (status === 409) return grpc.status.FAILED_PRECONDITION;
  if (status === 503) return grpc.status.UNAVAILABLE;
  if (status === 504) return grpc.status.DEADLINE_EXCEEDED;
  return grpc.status.INTERNAL;
}

/** The JSON spec a `JobSpec` message stands for (proto3 defaults mean "absent"). */
export function specFromMessage(message: JobSpecMessage): Record<string, unknown> {
  const code = (value: CodeMessage | null): Record<string, unknown> | undefined => {
    if (!value || value.kind === '') return undefined;
    return value.kind === 'command'
      ? { kind: 'command', command: value.command }
      : { kind: value.kind, source: value.source };
  };
  const spec: Record<string, unknown> = { input: message.input, output: message.output };
  if (message.name !== '') spec['name'] = message.name;
  if (message.reducers !== 0) spec['reducers'] = message.reducers;
  if (message.strategy !== '') spec['strategy'] = message.strategy;
  if (message.builtin !== '') spec['builtin'] = message.builtin;
  if (Object.keys(message.args).length > 0) spec['args'] = message.args;
  for (const role of ['mapper', 'reducer', 'combiner'] as const) {
    const value = code(message[role]);
    if (value !== undefined) spec[role] = value;
  }
  return spec;
}

/** A job view as a `Job` message. */
export function jobMessage(view: JobView): JobMessage {
  return {
    id: view.id,
    name: view.name,
    state: view.state,
    map: { done: view.progress.map.done, total: view.progress.map.total },
    reduce: { done: view.progress.reduce.done, total: view.progress.reduce.total },
    output: view.output,
    error: view.error ?? '',
    created_at_ms: Date.parse(view.created_at),
    finished_at_ms: view.finished_at === null ? 0 : Date.parse(view.finished_at),
    counters: Object.entries(view.counters).map(([name, value]) => ({ name, value })),
    json: JSON.stringify(view),
  };
}
