/**
 * Progress of a transfer for `tessera fs put` and `get`: a bar on a terminal (bytes done,
 * MB/s, ETA), and one summary line when nobody watches a bar (output piped, or `--json`).
 * Progress goes to stderr, so stdout keeps the command's result (or the file's bytes).
 */
import { SingleBar } from 'cli-progress';

/** How a transfer's progress is reported. */
export interface ProgressOptions {
  /** The verb of the summary line: `uploaded`, `downloaded`. */
  readonly verb: string;
  readonly totalBytes: number;
  /** Where the bar and the summary go. Default `process.stderr`. */
  readonly stream?: NodeJS.WriteStream;
  /** Draw a bar (true) or print one summary line at the end (false). */
  readonly interactive: boolean;
  /** Monotonic milliseconds. Default `performance.now()`. */
  readonly nowMs?: () => number;
}

/** A running transfer's progress report. */
export interface TransferProgress {
  /** Counts `bytes` more bytes transferred. */
  add(bytes: number): void;
  /** Ends the report: stops the bar, or writes the summary line. Returns the summary. */
  finish(): string;
  /** Stops the bar after a failure, without a summary. Safe to call after `finish`. */
  abort(): void;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** A byte count for people: `512 B`, `3.0 MiB`, `1.2 GiB` (binary units). */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  // Compare the rounded value, so 1048575 bytes reads `1.0 MiB`, not `1024.0 KiB`.
  while (Number(value.toFixed(unit === 0 ? 0 : 1)) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** A transfer rate in decimal megabytes per second (1 MB/s = 10^6 bytes/s), as disks and NICs quote. */
export function formatRate(bytes: number, elapsedMs: number): string {
  if (elapsedMs <= 0) return '- MB/s';
  const mbPerS = bytes / 1e6 / (elapsedMs / 1000);
  return `${mbPerS >= 100 ? mbPerS.toFixed(0) : mbPerS.toFixed(1)} MB/s`;
}

/** A duration for people: `0.41 s`, `12.3 s`, `2m05s`. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}

/** The one line that ends a transfer: `uploaded 3.0 MiB in 0.41 s (7.7 MB/s)`. */
export function transferSummary(verb: string, bytes: number, elapsedMs: number): string {
  return `${verb} ${formatBytes(bytes)} in ${formatDuration(elapsedMs)} (${formatRate(bytes, elapsedMs)})`;
}

/** Whether a transfer should draw a bar: both outputs are terminals and no JSON was asked for. */
export function wantsProgressBar(json: boolean | undefined): boolean {
  return !json && process.stdout.isTTY && process.stderr.isTTY;
}

/** Starts reporting a transfer of `totalBytes`. */
export function startProgress(options: ProgressOptions): TransferProgress {
  const stream = options.stream ?? process.stderr;
  const nowMs = options.nowMs ?? (() => performance.now());
  const startedMs = nowMs();
  let done = 0;
  let finished = false;
  const bar = options.interactive && options.totalBytes > 0 ? createBar(stream) : null;
  const payload = (): Record<string, string> => ({
    done: formatBytes(done),
    size: formatBytes(options.totalBytes),
    speed: formatRate(done, nowMs() - startedMs),
  });
  bar?.start(options.totalBytes, 0, payload());
  return {
    add(bytes) {
      done += bytes;
      bar?.update(Math.min(done, options.totalBytes), payload());
    },
    finish() {
      const summary = transferSummary(options.verb, done, nowMs() - startedMs);
      if (finished) return summary;
      finished = true;
      if (bar) {
        bar.update(Math.min(done, options.totalBytes), payload());
        bar.stop();
      } else {
        stream.write(`${summary}\n`);
      }
      return summary;
    },
    abort() {
      if (finished) return;
      finished = true;
      bar?.stop();
    },
  };
}

function createBar(stream: NodeJS.WriteStream): SingleBar {
  return new SingleBar({
    stream,
    format: '[{bar}] {percentage}% | {done} / {size} | {speed} | ETA {eta_formatted}',
    barsize: 30,
    // A hidden cursor would stay hidden after Ctrl-C.
    hideCursor: false,
    clearOnComplete: false,
    // A bar redrawn at most 10 times a second costs nothing next to the transfer.
    fps: 10,
    // The ETA follows the rate of the last 100 updates (pieces of 16 KiB to 1 MiB).
    etaBuffer: 100,
  });
}
