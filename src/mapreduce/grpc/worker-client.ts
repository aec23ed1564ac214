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
import { CHANNEL_OPTIONS, mapReduceProto, unary } from './proto.js';

/** A client of the master's WorkerService at `host:port`. */
export class WorkerServiceClient {
  private readonly client: grpc.Client;

  constructor(readonly address: string) {
    const { WorkerService } = mapReduceProto();
    this.client = new WorkerService(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  register(request: RegisterRequest, timeoutMs = 5_000): Promise<RegisterReply> {
    return unary(this.client, 'Register', request, timeoutMs);
  }

  heartbeat(request: HeartbeatRequest, timeoutMs: number): Promise<HeartbeatReply> {
    return unary(this.client, 'Heartbeat', request, timeoutMs);
  }

  reportResult(request: ResultReport, timeoutMs = 15_000): Promise<ResultAck> {
    return unary(this.client, 'ReportResult', request, timeoutMs);
  }

  close(): void {
    this.client.close();
  }
}
