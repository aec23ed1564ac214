/**
 * Runs the `tessera` CLI from the sources as a child process, for tests of client commands.
 * The environment is the test's, minus the variables that would point the CLI at a cluster
 * other than the one the test gives with flags.
 */
import { spawn } from 'node:child_process';
import { TESSERA_BIN } from './processes.js';

export interface CliResult {
  readonly code: number | null;
  /** Raw bytes (for `fs get -` and other binary output). */
  readonly stdoutBytes: Buffer;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tessera <args>` and collects its exit code and output. */
export function runCli(
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, TESSERA_FROM_SOURCE: '1' };
  for (const name of ['REGISTRY_URL', 'TESSERA_META_URL', 'TESSERA_TOKEN']) delete env[name];
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, [TESSERA_BIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (piece: Buffer) => stdout.push(piece));
  child.stderr.on('data', (piece: Buffer) => stderr.push(piece));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const bytes = Buffer.concat(stdout);
      resolve({
        code,
        stdoutBytes: bytes,
        stdout: bytes.toString(),
        stderr: Buffer.concat(stderr).toString(),
      });
    });
  });
}
