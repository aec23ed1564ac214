/**
 * What `tessera up` starts: pure planning of the local cluster's processes, ports and data
 * directories from the options. The supervisor (supervisor.ts) runs the plan.
 */

export interface UpOptions {
  /** The dashboard's port; every other default port moves by `basePort - 8000`. */
  readonly basePort: number;
  readonly host: string;
  readonly dataDir: string;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  /** Datanodes to start (default 3). */
  readonly datanodes: number;
  /** DistriSearch nodes to start (default 4). */
  readonly searchNodes: number;
  /** MapReduce workers to start (default 2); the MapReduce master starts when this is > 0. */
  readonly workers: number;
  /** With `--auth`: the secret file every service checks tokens with (docs/security.md). */
  readonly authSecretFile?: string;
}

/** One process of the local cluster. */
export interface ChildSpec {
  /** Display name, unique, e.g. `registry`, `datanode-2`. */
  readonly name: string;
  /** Arguments after the `tessera` command, e.g. `['registry', '--port', '9000']`. */
  readonly args: readonly string[];
  readonly url: string;
  /** Processes of a lower stage start (and become healthy) first. */
  readonly stage: number;
}

/** The default ports of DESIGN.md, before shifting. */
export const DEFAULT_PORTS = {
  web: 8080,
  registry: 9000,
  dfsMeta: 9100,
  datanodeFirst: 9201,
  searchFirst: 9301,
  mapreduceMaster: 9400,
  mapreduceGrpc: 50051,
  workerFirst: 9501,
} as const;

/** Shifts a default port for `--base-port`. */
export function shiftedPort(defaultPort: number, basePort: number): number {
  const port = defaultPort + (basePort - 8000);
  if (port < 1 || port > 65535)
    throw new RangeError(`--base-port ${basePort} moves a port out of range`);
  return port;
}

function seconds(ms: number): string {
  return `${ms / 1000}`;
}

/** Plans the processes of a local cluster. */
export function planCluster(options: UpOptions): ChildSpec[] {
  const registryPort = shiftedPort(DEFAULT_PORTS.registry, options.basePort);
  const registryUrl = `http://${options.host}:${registryPort}`;
  const cleanupMs = Math.max(100, Math.min(10_000, Math.floor(options.heartbeatTimeoutMs / 3)));
  const children: ChildSpec[] = [
    {
      name: 'registry',
      stage: 0,
      url: registryUrl,
      args: [
        'registry',
        '--host',
        options.host,
        '--port',
        String(registryPort),
        '--data-dir',
        `${options.dataDir}/registry`,
        '--heartbeat-timeout',
        seconds(options.heartbeatTimeoutMs),
        '--cleanup-interval',
        seconds(cleanupMs),
        ...authArgs(options),
      ],
    },
  ];
  const common = registeredServiceArgs(options, registryUrl);
  const timeout = ['--datanode-timeout', seconds(options.heartbeatTimeoutMs)];
  const metaPort = shiftedPort(DEFAULT_PORTS.dfsMeta, options.basePort);
  children.push({
    name: 'dfs-meta',
    stage: 1,
    url: `http://${options.host}:${metaPort}`,
    args: [
      'meta',
      '--port',
      String(metaPort),
      '--data-dir',
      `${options.dataDir}/dfs-meta`,
      ...common,
      ...timeout,
    ],
  });
  for (let index = 0; index < options.datanodes; index += 1) {
    const port = shiftedPort(DEFAULT_PORTS.datanodeFirst + index, options.basePort);
    children.push({
      name: `datanode-${index + 1}`,
      stage: 2,
      url: `http://${options.host}:${port}`,
      args: [
        'datanode',
        '--port',
        String(port),
        '--data-dir',
        `${options.dataDir}/datanode-${index + 1}`,
        ...common,
      ],
    });
  }
  children.push(...searchNodeChildren(options, common));
  children.push(...mapreduceChildren(options, common));
  const webPort = shiftedPort(DEFAULT_PORTS.web, options.basePort);
  children.push({
    name: 'web',
    stage: 4,
    url: `http://${options.host}:${webPort}`,
    args: ['web', '--port', String(webPort), '--data-dir', `${options.dataDir}/web`, ...common],
  });
  return children;
}

/** Search nodes get ids 0..N-1 and ports 9301.. (shifted); they find each other in the registry. */
function searchNodeChildren(options: UpOptions, common: readonly string[]): ChildSpec[] {
  const nodes: ChildSpec[] = [];
  for (let index = 0; index < options.searchNodes; index += 1) {
    const port = shiftedPort(DEFAULT_PORTS.searchFirst + index, options.basePort);
    nodes.push({
      name: `search-${index}`,
      stage: 2,
      url: `http://${options.host}:${port}`,
      args: [
        'search-node',
        '--node-id',
        String(index),
        '--port',
        String(port),
        '--data-dir',
        `${options.dataDir}/search-${index}`,
        ...common,
      ],
    });
  }
  return nodes;
}

/** The MapReduce master (HTTP 9400, gRPC 50051, shifted) and its workers (9501..). */
function mapreduceChildren(options: UpOptions, common: readonly string[]): ChildSpec[] {
  if (options.workers <= 0) return [];
  const masterPort = shiftedPort(DEFAULT_PORTS.mapreduceMaster, options.basePort);
  const grpcPort = shiftedPort(DEFAULT_PORTS.mapreduceGrpc, options.basePort);
  const children: ChildSpec[] = [
    {
      name: 'mapreduce-master',
      stage: 2,
      url: `http://${options.host}:${masterPort}`,
      args: [
        'mapreduce',
        'master',
        '--port',
        String(masterPort),
        '--grpc-port',
        String(grpcPort),
        '--data-dir',
        `${options.dataDir}/mapreduce-master`,
        ...common,
      ],
    },
  ];
  for (let index = 0; index < options.workers; index += 1) {
    const port = shiftedPort(DEFAULT_PORTS.workerFirst + index, options.basePort);
    children.push({
      name: `worker-${index + 1}`,
      stage: 3,
      url: `http://${options.host}:${port}`,
      args: [
        'mapreduce',
        'worker',
        '--port',
        String(port),
        '--data-dir',
        `${options.dataDir}/worker-${index + 1}`,
        '--master',
        `${options.host}:${grpcPort}`,
        ...common,
      ],
    });
  }
  return children;
}

/** Flags every registered service of the plan receives. */
export function registeredServiceArgs(options: UpOptions, registryUrl: string): string[] {
  return [
    '--host',
    options.host,
    '--registry',
    registryUrl,
    '--heartbeat-interval',
    seconds(options.heartbeatIntervalMs),
    ...authArgs(options),
  ];
}

/** `--auth` and the shared secret, when the cluster runs with authentication. */
function authArgs(options: UpOptions): string[] {
  return options.authSecretFile === undefined
    ? []
    : ['--auth', '--auth-secret-file', options.authSecretFile];
}
