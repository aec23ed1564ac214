/**
 * Network namespaces for partition tests (issue 7): a small private network that a test builds
 * for itself, runs real services in, cuts apart and heals.
 *
 * Topology: one "switch" namespace holding a bridge, and one namespace per host, joined to the
 * bridge by a veth pair (`eth0` in the host, `p<i>` on the switch), with the address
 * `10.213.0.<i+1>/24`. Nothing is created in the root namespace: the test process reaches the
 * services through a forwarder (`netns-proxy.ts`) that runs in a host namespace and listens on a
 * Unix socket (see `NetnsHttp`).
 *
 * Cuts are nftables rules in each host's `inet tsp input` chain (drops on arrival):
 * - `partition(a, b)`: every packet between the two groups is dropped, both ways;
 * - `partitionOneWay(from, to)`: `from` can no longer reach `to`: the packets of connections that
 *   `from` opens to `to` are dropped at `to`, while `to` still opens connections to `from` and gets
 *   the answers. A one-way cut of raw packets (`{ mode: 'packets' }`) is also offered; for TCP it
 *   ends up the same as a cut both ways, since every connection needs packets in both directions.
 * - `heal()` removes every rule.
 *
 * Names start with `tsp<pid>x<n>` (pid of the test process) so that concurrent test files never
 * collide and a later run can sweep what a killed run left behind (`sweepStaleNamespaces`).
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { PROJECT_ROOT, startProcess, startTessera, type RunningProcess } from './processes.js';

const run = promisify(execFile);
const IP = '/usr/sbin/ip';
const COMMAND_TIMEOUT_MS = 15_000;
const NAME_PATTERN = /^tsp(\d+)x\d+/;
/** The private subnet inside the test's namespaces (never configured in the root namespace). */
export const SUBNET_PREFIX = '10.213.0';
const PROXY_SCRIPT = join(PROJECT_ROOT, 'test', 'helpers', 'netns-proxy.ts');

let labCounter = 0;

/** One host of the lab: a namespace with one address on the switch. */
export interface NetHost {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  /** The command prefix that runs a program in this host (`ip netns exec NS`; it execs in place). */
  readonly wrapper: readonly string[];
}

async function ip(args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await run(IP, args, { timeout: COMMAND_TIMEOUT_MS });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`ip ${args.join(' ')} failed: ${stderr.trim() || String(error)}`, {
      cause: error,
    });
  }
}

async function nft(namespace: string, rule: string): Promise<void> {
  await ip(['netns', 'exec', namespace, 'nft', rule]);
}

async function namespaces(): Promise<string[]> {
  const listed = await ip(['netns', 'list']);
  return listed
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGKILLs every process still inside `namespace` (all of them started by a partition test). */
async function killInside(namespace: string): Promise<void> {
  const pids = (await ip(['netns', 'pids', namespace]).catch(() => ''))
    .split('\n')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 0 && pid !== process.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Deletes the `tsp*` namespaces of test processes that are no longer running. */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const stale = (await namespaces()).filter((name) => {
    const pid = NAME_PATTERN.exec(name)?.[1];
    return pid !== undefined && !pidAlive(Number(pid));
  });
  for (const name of stale) {
    await killInside(name);
    await ip(['netns', 'del', name]).catch(() => undefined);
  }
  return stale;
}

/**
 * Why partition tests cannot run here, or undefined when they can: they need root (or
 * CAP_NET_ADMIN), `ip`, `nft` and a kernel with network namespaces, veth, bridges and nftables.
 */
export async function netnsUnavailableReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  const probe = `tsp${process.pid}x9999probe`;
  try {
    await ip(['netns', 'add', probe]);
    await nft(probe, 'add table inet tsp');
    return undefined;
  } catch (error) {
    return `cannot create a network namespace with an nftables table (root or CAP_NET_ADMIN, iproute2 and nftables needed; scripts/system-deps.sh installs nftables): ${(error as Error).message}`;
  } finally {
    await ip(['netns', 'del', probe]).catch(() => undefined);
  }
}

/** A private network of namespaces with services in it. Always `destroy()` it in `after`. */
export class NetLab {
  private readonly hosts = new Map<string, NetHost>();
  private readonly processes: RunningProcess[] = [];
  private readonly proxies: NetnsHttp[] = [];

  private constructor(
    readonly prefix: string,
    readonly switchNamespace: string,
  ) {}

  /** Sweeps stale namespaces, then builds the switch and one namespace per host name. */
  static async create(hostNames: readonly string[]): Promise<NetLab> {
    await sweepStaleNamespaces();
    labCounter += 1;
    const prefix = `tsp${process.pid}x${labCounter}`;
    const lab = new NetLab(prefix, `${prefix}sw`);
    try {
      await ip(['netns', 'add', lab.switchNamespace]);
      await ip(['-n', lab.switchNamespace, 'link', 'add', 'br0', 'type', 'bridge']);
      await ip(['-n', lab.switchNamespace, 'link', 'set', 'br0', 'up']);
      for (const [index, name] of hostNames.entries()) await lab.addHost(name, index);
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  private async addHost(name: string, index: number): Promise<void> {
    const namespace = `${this.prefix}${name}`;
    const address = `${SUBNET_PREFIX}.${index + 1}`;
    const port = `p${index}`;
    const host = { name, namespace, address, wrapper: [IP, 'netns', 'exec', namespace] };
    this.hosts.set(name, host);
    const sw = this.switchNamespace;
    await ip(['netns', 'add', namespace]);
    await ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
    await ip(['-n', namespace, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', sw]); // prettier-ignore
    await ip(['-n', sw, 'link', 'set', port, 'master', 'br0']);
    await ip(['-n', sw, 'link', 'set', port, 'up']);
    await ip(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    await ip(['-n', namespace, 'link', 'set', 'eth0', 'up']);
    await nft(namespace, 'add table inet tsp');
    // A rule that uses conntrack, in a chain `heal()` never flushes, so that every connection is
    // tracked from its first packet: conntrack picking up a connection mid-stream would take the
    // first packet it sees as the original direction, and one-way cuts would miss it.
    await nft(namespace, 'add chain inet tsp track { type filter hook prerouting priority 0; policy accept; }'); // prettier-ignore
    await nft(namespace, 'add rule inet tsp track ct state new counter');
    await nft(namespace, 'add chain inet tsp input { type filter hook input priority 0; policy accept; }'); // prettier-ignore
  }

  host(name: string): NetHost {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`no host ${name} in the lab`);
    return host;
  }

  /** Cuts every link between the hosts of `a` and those of `b`, both ways. */
  async partition(a: readonly string[], b: readonly string[]): Promise<void> {
    for (const x of a.map((name) => this.host(name))) {
      for (const y of b.map((name) => this.host(name))) {
        await nft(x.namespace, `add rule inet tsp input ip saddr ${y.address} drop`);
        await nft(y.namespace, `add rule inet tsp input ip saddr ${x.address} drop`);
      }
    }
  }

  /**
   * `from` can no longer reach `to`. Mode `requests` (default): connections opened by `from`
   * towards `to` are dropped (established ones too), connections opened by `to` still work both
   * ways. Mode `packets`: every packet from `from` is dropped at `to`.
   */
  async partitionOneWay(
    from: string,
    to: string,
    options: { mode?: 'requests' | 'packets' } = {},
  ): Promise<void> {
    const source = this.host(from).address;
    const match = options.mode === 'packets' ? '' : ' ct direction original';
    await nft(this.host(to).namespace, `add rule inet tsp input ip saddr ${source}${match} drop`);
  }

  /** Removes every cut. */
  async heal(): Promise<void> {
    for (const host of this.hosts.values()) await nft(host.namespace, 'flush chain inet tsp input');
  }

  /** Starts `tessera <args>` inside `host`; the lab kills it on destroy. */
  async startTessera(
    host: string,
    args: readonly string[],
    options: { timeoutMs?: number; env?: Record<string, string> } = {},
  ): Promise<RunningProcess> {
    const started = await startTessera(args, {
      timeoutMs: options.timeoutMs ?? 60_000,
      ...(options.env === undefined ? {} : { env: options.env }),
      wrapper: this.host(host).wrapper,
    });
    this.processes.push(started);
    return started;
  }

  /** Starts an in-memory registry on port 9000 of `host`, with short timings for tests. */
  async startRegistry(
    host: string,
    timings: { heartbeatTimeoutS: number; cleanupIntervalS: number },
  ): Promise<RunningProcess> {
    return this.startTessera(host, [
      ...['registry', '--host', this.host(host).address, '--port', '9000', '--in-memory'],
      ...['--heartbeat-timeout', String(timings.heartbeatTimeoutS)],
      ...['--cleanup-interval', String(timings.cleanupIntervalS)],
    ]);
  }

  /** Starts the forwarder in `host` and answers a client for the services of the lab. */
  async http(host: string, socketPath: string): Promise<NetnsHttp> {
    const proxy = await startProcess(PROXY_SCRIPT, [socketPath], {
      nodeArgs: ['--import', 'tsx'],
      wrapper: this.host(host).wrapper,
      timeoutMs: 60_000,
    });
    this.processes.push(proxy);
    const client = new NetnsHttp(socketPath);
    this.proxies.push(client);
    return client;
  }

  /** Runs a TypeScript script inside `host` to its end (bounded) and answers its output. */
  async runScript(
    host: string,
    script: string,
    args: readonly string[],
    timeoutMs = 90_000,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const [command, ...rest] = [...this.host(host).wrapper, process.execPath, '--import', 'tsx'];
    const child = spawn(command ?? IP, [...rest, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString('utf8')));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      return { code, stdout, stderr };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills every process the lab started (and anything left inside), then deletes it all. */
  async destroy(): Promise<void> {
    await Promise.all(this.processes.map((child) => child.kill('SIGKILL')));
    await Promise.all(this.proxies.map((client) => client.close()));
    const all = [...[...this.hosts.values()].map((host) => host.namespace), this.switchNamespace];
    const existing = new Set(await namespaces().catch(() => all));
    for (const namespace of all.filter((name) => existing.has(name))) {
      await killInside(namespace);
      await ip(['netns', 'del', namespace]).catch(() => undefined);
    }
  }
}

/** An HTTP answer through the forwarder. */
export interface ProxiedAnswer<T> {
  readonly status: number;
  readonly body: T;
}

/**
 * HTTP from the test process to services inside the lab, through a forwarder's Unix socket.
 * URLs are the services' own (`http://10.213.0.3:4000/...`).
 */
export class NetnsHttp {
  private readonly agent: Agent;

  constructor(readonly socketPath: string) {
    this.agent = new Agent({ connect: { socketPath }, keepAliveTimeout: 1_000 });
  }

  /** Sends one request; any status is answered (the body parsed as JSON when it is JSON). */
  async send<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    timeoutMs = 10_000,
  ): Promise<ProxiedAnswer<T>> {
    const answer = await request(url, {
      method,
      dispatcher: this.agent,
      headers: {
        'x-proxy-timeout-ms': String(timeoutMs),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headersTimeout: timeoutMs + 5_000,
      bodyTimeout: timeoutMs + 5_000,
    });
    const text = await answer.body.text();
    const isJson = /json/.test(String(answer.headers['content-type'] ?? ''));
    return { status: answer.statusCode, body: (isJson ? JSON.parse(text) : text) as T };
  }

  /** GET that must answer 2xx. */
  async getJson<T>(url: string, timeoutMs?: number): Promise<T> {
    return this.ok(await this.send<T>('GET', url, undefined, timeoutMs), 'GET', url);
  }

  /** POST that must answer 2xx. */
  async postJson<T>(url: string, body: unknown, timeoutMs?: number): Promise<T> {
    return this.ok(await this.send<T>('POST', url, body, timeoutMs), 'POST', url);
  }

  private ok<T>(answer: ProxiedAnswer<T>, method: string, url: string): T {
    if (answer.status < 200 || answer.status > 299) {
      throw new Error(`${method} ${url} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
