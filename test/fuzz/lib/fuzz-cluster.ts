/**
 * The cluster the fuzzer runs against: the dashboard's whole local cluster (test/helpers/
 * web-cluster.ts) as real processes, every service with short HTTP timeouts (set through the
 * environment the children inherit) so that the slow-client cases finish in seconds.
 */
import type { RunningProcess } from '../../helpers/processes.js';
import { WebCluster } from '../../helpers/web-cluster.js';
import type { FuzzTarget } from './fuzz-service.js';

/** Names the fuzzer accepts for `--service`, in the order it fuzzes them. */
export const SERVICE_NAMES = [
  'registry',
  'meta',
  'datanode',
  'search',
  'master',
  'worker',
  'web',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface FuzzClusterOptions {
  /** `--http-request-timeout` (and headers timeout) of every service. */
  readonly requestTimeoutMs: number;
  readonly datanodes?: number;
  readonly searchNodes?: number;
  readonly workers?: number;
}

function isRunning(process: RunningProcess | undefined): boolean {
  return (
    process !== undefined && process.child.exitCode === null && process.child.signalCode === null
  );
}

/** Starts the cluster; `targets` names one process of each service. */
export async function startFuzzCluster(options: FuzzClusterOptions): Promise<{
  readonly cluster: WebCluster;
  readonly targets: readonly (FuzzTarget & { readonly service: ServiceName })[];
}> {
  const seconds = `${options.requestTimeoutMs / 1000}`;
  process.env['TESSERA_HTTP_REQUEST_TIMEOUT'] = seconds;
  process.env['TESSERA_HTTP_HEADERS_TIMEOUT'] = seconds;
  const cluster = new WebCluster({
    datanodes: options.datanodes ?? 2,
    searchNodes: options.searchNodes ?? 2,
    workers: options.workers ?? 1,
  });
  try {
    await cluster.start();
  } catch (error) {
    await cluster.stop().catch(() => undefined);
    throw error;
  }
  const searchNode = cluster.search.running()[0] ?? 0;
  const processes: Record<ServiceName, () => RunningProcess | undefined> = {
    registry: () => cluster.dfs.registry,
    meta: () => cluster.dfs.meta,
    datanode: () => cluster.dfs.datanodes[0],
    search: () => cluster.search.nodes[searchNode],
    master: () => cluster.master,
    worker: () => cluster.workers[0],
    web: () => cluster.web,
  };
  const targets = SERVICE_NAMES.map((service) => {
    const running = processes[service]();
    if (running === undefined) throw new Error(`the cluster has no ${service}`);
    return { service, baseUrl: running.url, isRunning: () => isRunning(processes[service]()) };
  });
  return { cluster, targets };
}
