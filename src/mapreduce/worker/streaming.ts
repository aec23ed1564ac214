/**
 * Streaming commands (as Hadoop Streaming): a mapper reads records on stdin, one per line, and
 * writes `key<TAB>value` lines (a line without a tab is a key with an empty value); a reducer
 * reads the sorted `key<TAB>value` lines of its partition on stdin and writes its output lines.
 * The command runs without a shell (argv), in the worker's working directory, with
 * `TESSERA_JOB_ID`, `TESSERA_TASK_ID`, `TESSERA_ATTEMPT_ID`, `TESSERA_WORKER_ID` and, for a
 * mapper, `map_input_file` (Hadoop's name) in its environment. A non-zero exit fails the
 * attempt as `user-code`, with the end of its stderr as the error.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { UserCodeError } from './user-code.js';

/** The last bytes of stderr kept for the error message. */
const STDERR_TAIL_BYTES = 4096;

/** A running streaming command. */
export interface StreamingCommand {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves when it exited with 0; rejects with `UserCodeError` otherwise. */
  readonly exited: Promise<void>;
  /** Kills it (on cancellation or failure). */
  kill(): void;
}

/** Starts a streaming command; it is killed when `signal` aborts. */
export function startCommand(
  command: readonly string[],
  env: Readonly<Record<string, string>>,
  signal: AbortSignal,
): StreamingCommand {
  const [file, ...args] = command;
  if (file === undefined) throw new UserCodeError('the streaming command is empty');
  const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: 'pipe' });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (piece: string) => {
    stderr = (stderr + piece).slice(-STDERR_TAIL_BYTES);
  });
  // The child may exit before reading all its input: EPIPE is then reported by its exit code.
  child.stdin.on('error', () => undefined);
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  signal.addEventListener('abort', kill, { once: true });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (error) =>
      reject(
        new UserCodeError(`cannot run ${command.join(' ')}: ${error.message}`, undefined, {
          cause: error,
        }),
      ),
    );
    child.once('close', (code, exitSignal) => {
      signal.removeEventListener('abort', kill);
      if (code === 0) return resolve();
      const how = code === null ? `was killed by ${exitSignal}` : `exited with code ${code}`;
      const tail = stderr.trim();
      reject(new UserCodeError(`${command.join(' ')} ${how}${tail ? `: ${tail}` : ''}`));
    });
  });
  return { child, exited, kill };
}

/** Writes text to a stream, waiting for it to drain when its buffer is full. */
export async function writeWithBackpressure(stream: Writable, text: string): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return;
  if (!stream.write(text)) {
    await Promise.race([once(stream, 'drain'), once(stream, 'close'), once(stream, 'error')]);
  }
}

/** Splits a streaming output line into key and value at its first tab. */
export function splitKeyValue(line: string): [string, string] {
  const tab = line.indexOf('\t');
  return tab < 0 ? [line, ''] : [line.slice(0, tab), line.slice(tab + 1)];
}
