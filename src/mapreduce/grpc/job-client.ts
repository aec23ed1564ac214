/**
 * A client of the master's gRPC `JobService` (Submit, Get, List, Cancel), mirroring the HTTP
 * API for programs that prefer gRPC.
 */
import * as grpc from '@grpc/grpc-js';
import type { JobList, JobMessage, JobSpecMessage, ListJobsRequest } from './messages.js';
import { processClientSecurity, type ClientSecurity } from '../../core/security-context.js';
import { CHANNEL_OPTIONS, mapReduceProto, unary } from './proto.js';
import { channelCredentials } from './security.js';

/** A client of the JobService at `host:port`. */
export class JobServiceClient {
  private readonly client: grpc.Client;

  /** `security`: TLS trust and token; default the process's (`TESSERA_TLS_*`, `TESSERA_TOKEN`). */
  constructor(
    readonly address: string,
    private readonly timeoutMs = 30_000,
    private readonly security: ClientSecurity | undefined = processClientSecurity(),
  ) {
    const { JobService } = mapReduceProto();
    this.client = new JobService(address, channelCredentials(this.security), CHANNEL_OPTIONS);
  }

  submit(
    spec: Partial<JobSpecMessage> & Pick<JobSpecMessage, 'input' | 'output'>,
  ): Promise<JobMessage> {
    return unary(this.client, 'Submit', spec, this.timeoutMs, this.security);
  }

  get(id: string): Promise<JobMessage> {
    return unary(this.client, 'Get', { id }, this.timeoutMs, this.security);
  }

  list(request: Partial<ListJobsRequest> = {}): Promise<JobList> {
    return unary(this.client, 'List', request, this.timeoutMs, this.security);
  }

  cancel(id: string): Promise<JobMessage> {
    return unary(this.client, 'Cancel', { id }, this.timeoutMs, this.security);
  }

  close(): void {
    this.client.close();
  }
}
