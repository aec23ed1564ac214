/**
 * A client of the master's gRPC `JobService` (Submit, Get, List, Cancel), mirroring the HTTP
 * API for programs that prefer gRPC.
 */
import * as grpc from '@grpc/grpc-js';
import type { JobList, JobMessage, JobSpecMessage, ListJobsRequest } from './messages.js';
import { CHANNEL_OPTIONS, mapReduceProto, unary } from './proto.js';

/** A client of the JobService at `host:port`. */
export class JobServiceClient {
  private readonly client: grpc.Client;

  constructor(
    readonly address: string,
    private readonly timeoutMs = 30_000,
  ) {
    const { JobService } = mapReduceProto();
    this.client = new JobService(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  submit(
    spec: Partial<JobSpecMessage> & Pick<JobSpecMessage, 'input' | 'output'>,
  ): Promise<JobMessage> {
    return unary(this.client, 'Submit', spec, this.timeoutMs);
  }

  get(id: string): Promise<JobMessage> {
    return unary(this.client, 'Get', { id }, this.timeoutMs);
  }

  list(request: Partial<ListJobsRequest> = {}): Promise<JobList> {
    return unary(this.client, 'List', request, this.timeoutMs);
  }

  cancel(id: string): Promise<JobMessage> {
    return unary(this.client, 'Cancel', { id }, this.timeoutMs);
  }

  close(): void {
    this.client.close();
  }
}
