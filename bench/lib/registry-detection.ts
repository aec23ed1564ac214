/**
 * Detection delay of the registry: the time between a server's last acknowledged heartbeat
 * and the registry reporting it inactive. The seed's rule is that a server silent for
 * HEARTBEAT_TIMEOUT is marked inactive by the sweep that runs every CLEANUP_INTERVAL, so the
 * delay should lie in [timeout, timeout + cleanup interval) plus scheduling noise.
 *
 * Servers heartbeat like agents do; "victims" fall silent at staggered times spread over one
 * cleanup interval (so that each meets the sweep at a different phase: each is one trial);
 * a Consul-style blocking query on `/servers/active` sees each change the moment it happens,
 * and `GET /servers/{id}` confirms the victim's status. Survivors must stay active throughout.
 */
import { Pool } from 'undici';
import { getJson, heartbeatBody, registerServers } from './registry-process.js';

export interface DetectionOptions {
  readonly url: string;
  readonly heartbeatTimeoutMs: number;
  readonly cleanupIntervalMs: number;
  readonly heartbeatIntervalMs: number;
  readonly victims: number;
  readonly survivors: number;
}

export interface DetectionTrial {
  /** When the victim fell silent, after the first stop (shows the spread over the sweep phase). */
  readonly stopOffsetMs: number;
  readonly delayS: number;
  /** Status of the victim from `GET /servers/{id}` once detected. */
  readonly confirmedStatus: string;
}

export interface DetectionResult {
  readonly trials: DetectionTrial[];
  readonly undetected: number;
  /** Survivors that were reported inactive although they kept heartbeating. */
  readonly falsePositives: number;
}

interface Server {
  readonly id: string;
  readonly body: string;
  silentFromMs: number;
  lastAckMs: number;
  detectedMs: number | undefined;
}

/** Runs the trials against a registry started with the given timeout and cleanup interval. */
export async function measureDetection(options: DetectionOptions): Promise<DetectionResult> {
  const { ids } = await registerServers(options.url, 0, options.victims + options.survivors, 4);
  const now = performance.now();
  const servers: Server[] = ids.map((id, index) => ({
    id,
    body: heartbeatBody(id, index),
    silentFromMs: Infinity,
    lastAckMs: now,
    detectedMs: undefined,
  }));
  const victims = servers.slice(0, options.victims);
  const firstStopMs = now + 2 * options.heartbeatIntervalMs + 200;
  const spacingMs = options.cleanupIntervalMs / options.victims;
  victims.forEach((victim, at) => (victim.silentFromMs = firstStopMs + at * spacingMs));

  const beats = new Pool(options.url, { connections: 4 });
  const watch = new Pool(options.url, { connections: 1 });
  const stopBeating = startHeartbeats(beats, servers, options.heartbeatIntervalMs);
  const deadlineMs =
    firstStopMs + options.cleanupIntervalMs + options.heartbeatTimeoutMs * 2 + 5_000;
  let falsePositives = 0;
  try {
    let index = 0;
    while (victims.some((v) => v.detectedMs === undefined) && performance.now() < deadlineMs) {
      const answer = await getJson<{ servers: { server_id: string }[] }>(
        watch,
        `/servers/active?index=${index}&wait=5s`,
      );
      const seenMs = performance.now();
      index = answer.index ?? index;
      const active = new Set(answer.body.servers.map((server) => server.server_id));
      for (const server of servers) {
        if (active.has(server.id) || server.detectedMs !== undefined) continue;
        server.detectedMs = seenMs;
        if (server.silentFromMs === Infinity) falsePositives += 1;
      }
    }
  } finally {
    stopBeating();
    await beats.close();
  }
  const trials = await confirm(watch, victims, firstStopMs);
  await watch.close();
  return {
    trials,
    undetected: victims.filter((v) => v.detectedMs === undefined).length,
    falsePositives,
  };
}

/**
 * Each server heartbeats every interval like an agent, on its own phase (spread over the
 * interval), so that the victims' last heartbeats meet the sweep at different phases.
 */
function startHeartbeats(pool: Pool, servers: readonly Server[], intervalMs: number): () => void {
  const timers: NodeJS.Timeout[] = [];
  servers.forEach((server, at) => {
    const phaseMs = (at * intervalMs) / servers.length;
    const first = setTimeout(() => {
      beat(pool, server);
      timers.push(setInterval(() => beat(pool, server), intervalMs));
    }, phaseMs);
    timers.push(first);
  });
  return () => timers.forEach((timer) => clearTimeout(timer));
}

function beat(pool: Pool, server: Server): void {
  if (performance.now() >= server.silentFromMs) return;
  pool
    .request({
      method: 'POST',
      path: '/heartbeat',
      headers: { 'content-type': 'application/json' },
      body: server.body,
    })
    .then(async (response) => {
      await response.body.dump();
      if (response.statusCode === 200) server.lastAckMs = performance.now();
    })
    .catch(() => undefined); // a lost heartbeat is just a heartbeat not acknowledged
}

async function confirm(
  pool: Pool,
  victims: readonly Server[],
  firstStopMs: number,
): Promise<DetectionTrial[]> {
  const trials: DetectionTrial[] = [];
  for (const victim of victims) {
    if (victim.detectedMs === undefined) continue;
    const answer = await getJson<{ status?: string }>(pool, `/servers/${victim.id}`);
    trials.push({
      stopOffsetMs: Math.round(victim.silentFromMs - firstStopMs),
      delayS: Math.round((victim.detectedMs - victim.lastAckMs) / 10) / 100,
      confirmedStatus: answer.body.status ?? `http ${answer.status}`,
    });
  }
  return trials;
}
