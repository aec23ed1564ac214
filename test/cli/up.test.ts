/**
 * `tessera up` (issue 2): starts the local cluster on shifted ports (`--base-port`), every
 * service answers `/health`, it prints `tessera is ready`, restarts a child that dies, and
 * stops every child cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { HttpClient } from '../../src/core/http-client.js';
import { TESSERA_BIN, tempDir, waitFor } from '../helpers/processes.js';

/** A base port whose shifted registry port is free right now. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    // The gRPC port (50051 + base - 8000) must stay below 65536.
    const base = 10_000 + Math.floor(Math.random() * 12_000);
    const registryPort = base + 1000;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(registryPort, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return base;
  }
  throw new Error('no free base port found');
}

/** `tessera up ARGS` with short heartbeats, its output lines collected as they come. */
function startUp(args: readonly string[]) {
  const child = spawn(
    process.execPath,
    [TESSERA_BIN, 'up', ...args, '--heartbeat-interval', '0.2', '--heartbeat-timeout', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TESSERA_FROM_SOURCE: '1' } },
  );
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
  createInterface({ input: child.stderr }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, lines, exited };
}

const dir = tempDir('up');
const http = new HttpClient({
  maxRetries: 0,
  timeoutMs: 2_000,
  breaker: { failureThreshold: 1e9 },
});
after(async () => {
  await http.close();
  dir.cleanup();
});

test('tessera up starts a healthy cluster on a base port and stops it cleanly', async () => {
  const basePort = await freeBasePort();
  const { child, lines, exited } = startUp([
    '--base-port',
    String(basePort),
    '--data-dir',
    dir.path,
  ]);
  try {
    await waitFor('tessera is ready', () => lines.includes('tessera is ready'), {
      timeoutMs: 60_000,
    });
    const registryUrl = `http://127.0.0.1:${basePort + 1000}`;
    assert.ok(
      lines.some((line) => line.includes(registryUrl)),
      'the table lists the registry URL',
    );
    const health = await http.getJson<{ status: string; pid: number }>(`${registryUrl}/health`);
    assert.equal(health.status, 'ok');
    // Every service of the table answers /health, and the registered ones are in the registry.
    const table = lines
      .map((line) => /^(\S+)\s+(http:\/\/\S+)$/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null && match[1] !== 'dashboard:');
    // registry, dfs-meta, 3 datanodes, 4 search nodes, the MapReduce master, 2 workers, web.
    assert.equal(table.length, 13, `every default service is listed: ${lines.join('\n')}`);
    for (const match of table) {
      const answer = await http.getJson<{ status: string }>(`${match[2]}/health`);
      assert.equal(answer.status, 'ok', `${match[1]} is healthy`);
    }
    const expectedRoles: [string, number][] = [
      ['datanode', 3],
      ['search-node', 4],
      ['mapreduce-master', 1],
      ['mapreduce-worker', 2],
    ];
    for (const [role, count] of expectedRoles) {
      await waitFor(`${count} ${role} in the registry`, async () => {
        const list = await http.getJson<{ count: number }>(
          `${registryUrl}/servers/active?role=${role}`,
        );
        return list.count === count;
      });
    }
    // The four search nodes agree on one leader, the highest id (Bully).
    await waitFor('one search leader', async () => {
      const statuses = await Promise.all(
        [0, 1, 2, 3].map((index) =>
          http.getJson<{ leader_id: number | null }>(
            `http://127.0.0.1:${basePort + 1301 + index}/status`,
          ),
        ),
      );
      return statuses.every((status) => status.leader_id === 3);
    });

    // A child that dies is reported and restarted.
    process.kill(health.pid, 'SIGKILL');
    await waitFor('the restart notice', () =>
      lines.some((line) => /registry killed by SIGKILL; restarting/.test(line)),
    );
    const restarted = await waitFor(
      'the restarted registry',
      async () => {
        const answer = await http.getJson<{ status: string; pid: number }>(`${registryUrl}/health`);
        return answer.pid !== health.pid ? answer : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(restarted.status, 'ok');

    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, lines.join('\n'));
    await assert.rejects(
      http.getJson(`${registryUrl}/health`),
      'the registry is gone after the stop',
    );
  } catch (error) {
    process.stderr.write(lines.join('\n') + '\n');
    throw error;
  } finally {
    child.kill('SIGKILL');
  }
});

test('tessera up --auth keeps a secret, prints an admin token and every API wants a token', async () => {
  const basePort = await freeBasePort();
  const authDir = join(dir.path, 'auth-cluster');
  const { child, lines, exited } = startUp([
    ...['--auth', '--base-port', String(basePort), '--data-dir', authDir],
    ...['--datanodes', '1', '--search-nodes', '0', '--workers', '0'],
  ]);
  try {
    await waitFor('tessera is ready', () => lines.includes('tessera is ready'), {
      timeoutMs: 60_000,
    });
    const secretFile = join(authDir, 'auth-secret.txt');
    assert.equal(
      statSync(secretFile).mode & 0o777,
      0o600,
      'the secret is readable by its owner only',
    );
    const token = lines
      .map((line) => /export TESSERA_TOKEN=(\S+)/.exec(line)?.[1])
      .find((value) => value !== undefined);
    assert.ok(token, `an admin token is printed: ${lines.join('\n')}`);
    const registryUrl = `http://127.0.0.1:${basePort + 1000}`;
    const anonymous = await http.request(`${registryUrl}/servers`);
    await anonymous.body.dump();
    assert.equal(anonymous.status, 401);
    const admin = new HttpClient({
      maxRetries: 0,
      timeoutMs: 2_000,
      security: { httpsOnly: false, authorization: async () => `Bearer ${token}` },
    });
    try {
      // The services registered with their own service tokens.
      await waitFor('dfs-meta, the datanode and the web server in the registry', async () => {
        const { servers } = await admin.getJson<{ servers: { role: string }[] }>(
          `${registryUrl}/servers/active`,
        );
        const roles = new Set(servers.map((server) => server.role));
        return ['dfs-meta', 'datanode', 'web'].every((role) => roles.has(role));
      });
    } finally {
      await admin.close();
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0, lines.join('\n'));
  } catch (error) {
    process.stderr.write(lines.join('\n') + '\n');
    throw error;
  } finally {
    child.kill('SIGKILL');
  }
});
