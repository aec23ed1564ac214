/**
 * A real Mosquitto broker for tests (DESIGN.md: MQTT is tested against Debian's `mosquitto`,
 * installed by scripts/system-deps.sh). Each broker listens on 127.0.0.1 on an ephemeral port
 * chosen here, with a temporary config (anonymous access, no persistence); `start` waits until
 * it accepts TCP connections. `restart` brings it back on the same port, for reconnect tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, connect as connectTcp } from 'node:net';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { connectAsync, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { tempDir, waitFor } from './processes.js';

/** A running (or stopped, restartable) broker. */
export interface MosquittoBroker {
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** The broker's log lines so far (across restarts). */
  readonly lines: string[];
  /** Stops it: SIGTERM (a clean shutdown) or SIGKILL (a crash). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port (after `stop`). */
  start(): Promise<void>;
  /** Stops it and removes its temporary directory. */
  dispose(): Promise<void>;
}

/** The mosquitto binary: on PATH, or Debian's /usr/sbin (not on a normal user's PATH). */
export function mosquittoBinary(): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  const found = dirs.map((dir) => join(dir, 'mosquitto')).find((path) => existsSync(path));
  if (found === undefined) {
    throw new Error(
      'mosquitto is not installed; run `bash scripts/system-deps.sh` (npm test does)',
    );
  }
  return found;
}

/** A TCP port that was free a moment ago. */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts a broker on `port` (default: a free ephemeral port). */
export async function startMosquitto(options: { port?: number } = {}): Promise<MosquittoBroker> {
  const binary = mosquittoBinary();
  const port = options.port ?? (await freeTcpPort());
  const dir = tempDir('mosquitto');
  const configPath = join(dir.path, 'mosquitto.conf');
  writeFileSync(
    configPath,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      'connection_messages true',
      '',
    ].join('\n'),
  );
  const lines: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    if (child !== undefined) throw new Error('mosquitto is already running');
    const broker = spawn(binary, ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = broker;
    let gone = false;
    exited = new Promise((resolve) =>
      broker.once('exit', () => {
        gone = true;
        resolve();
      }),
    );
    createInterface({ input: broker.stdout }).on('line', (line) => lines.push(line));
    createInterface({ input: broker.stderr }).on('line', (line) => lines.push(line));
    try {
      await waitFor(
        `mosquitto on port ${port}`,
        async () => {
          if (gone) throw new Error(`mosquitto exited:\n${lines.join('\n')}`);
          return acceptsConnections(port);
        },
        { timeoutMs: 10_000, intervalMs: 20 },
      );
    } catch (error) {
      await stop('SIGKILL');
      throw error;
    }
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const running = child;
    if (running === undefined) return;
    if (running.exitCode === null && running.signalCode === null) running.kill(signal);
    // A broker that ignores SIGTERM for 5 s is killed: tests must not hang on it.
    const late = setTimeout(() => running.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(late);
    child = undefined;
  };

  await start();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    lines,
    stop,
    start,
    async dispose() {
      await stop('SIGKILL');
      dir.cleanup();
    },
  };
}

/** A message a test client received. */
export interface ReceivedMessage {
  readonly topic: string;
  readonly text: string;
  readonly qos: number;
  readonly retain: boolean;
  readonly correlationData?: Buffer;
  /** The payload parsed as JSON. */
  json(): unknown;
}

/** An MQTT v5 client for tests that records every message it receives. */
export class MqttTestClient {
  readonly messages: ReceivedMessage[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString('utf8');
      const correlationData = packet.properties?.correlationData;
      this.messages.push({
        topic,
        text,
        qos: packet.qos,
        retain: packet.retain,
        ...(correlationData ? { correlationData } : {}),
        json: () => JSON.parse(text) as unknown,
      });
    });
  }

  /** Connects (MQTT v5) and subscribes to `topics` (QoS 1) before resolving. */
  static async connect(url: string, topics: readonly string[] = []): Promise<MqttTestClient> {
    const client = await connectAsync(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    const tester = new MqttTestClient(client);
    if (topics.length > 0) await client.subscribeAsync([...topics], { qos: 1 });
    return tester;
  }

  /** Messages received on `topic`. */
  on(topic: string): ReceivedMessage[] {
    return this.messages.filter((message) => message.topic === topic);
  }

  /** The first message (already received or arriving within `timeoutMs`) that matches. */
  waitFor(
    description: string,
    match: (message: ReceivedMessage) => boolean,
    timeoutMs = 5000,
  ): Promise<ReceivedMessage> {
    return waitFor(description, () => this.messages.find(match), {
      timeoutMs,
      intervalMs: 10,
    });
  }

  /** Publishes a payload (QoS 1 by default) and waits for the broker's acknowledgement. */
  async publish(
    topic: string,
    payload: string,
    options: IClientPublishOptions = {},
  ): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, ...options });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
