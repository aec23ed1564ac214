/** How numbers, sizes and times read on the dashboard. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `1536` -> `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** An age in ms as `3.2 s`, `4 min`, `2 h`, `3 d`. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

/** A count with thousands separators. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** A ratio with at most two decimals. */
export function formatRatio(value: number): string {
  return value.toFixed(value % 1 === 0 ? 0 : 2);
}

/** A millisecond latency: `0.42 ms`, `12 ms`, `1.3 s`. */
export function formatLatency(ms: number | null): string {
  if (ms === null) return '—';
  if (ms >= 1000) return `${(ms / 1000).toFixed(1)} s`;
  return ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(2)} ms`;
}

/** An ISO time as the browser's local date and time. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** The last segment of a path. */
export function baseName(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? path;
}

/**
 * An error message fit to show: a job's JavaScript module runs from a `data:` URL, whose
 * base64 text fills stack traces; it is shown as `job-module`.
 */
export function readableError(message: string): string {
  return message.replace(/data:text\/javascript;base64,[A-Za-z0-9+/=]+/g, 'job-module');
}
