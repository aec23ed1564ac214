/**
 * The worker's client of the master's `WorkerService`: one gRPC channel (grpc-js reconnects by
 * itself after a master restart), promise-returning calls with deadlines.
 */
import * as grpc from '@grpc/grpc-js';
import type {
  HeartbeatReply,
  HeartbeatRequest,
  RegisterReply,
  RegisterRequest,
  ResultAck,
  ResultReport,
} from './messages.js';
import { processClientSecurity, type ClientSecurity } from '../../core/security-context.js';
import { CHANNEL_OPTIONS, mapReduceProto, unary } from './proto.js';
import { channelCredentials } from './security.js';

/** A client of the master's WorkerService at `host:port`. */
export class WorkerServiceClient {
  private readonly client: grpc.Client;

  /** `security`: TLS trust, client certificate and token; default the process's (a worker's own). */
  constructor(
    readonly address: string,
    private readonly security: ClientSecurity | undefined = processClientSecurity(),
  ) {
    const { WorkerService } = mapReduceProto();
    this.client = new WorkerService(address, channelCredentials(this.security), CHANNEL_OPTIONS);
  }

  register(request: RegisterRequest, timeoutMs = 5_000): Promise<RegisterReply> {
    return unary(this.client, 'Register', request, timeoutMs, this.security);
  }

  heartbeat(request: HeartbeatRequest, timeoutMs: number): Promise<HeartbeatReply> {
    return unary(this.client, 'Heartbeat', request, timeoutMs, this.security);
  }

  reportResult(request: ResultReport, timeoutMs = 15_000): Promise<ResultAck> {
    return unary(this.client, 'ReportResult', request, timeoutMs, this.security);
  }

  close(): void {
    this.client.close();
  }
}
