/** Formats a child's output line for the terminal of `tessera up`: pino JSON made readable. */

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const IGNORED = new Set([
  'level',
  'time',
  'pid',
  'hostname',
  'msg',
  'service',
  'config',
  'sources',
]);
const COLORS = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];

/** A colour code per child, stable by index. */
export function colorFor(index: number): number {
  return COLORS[index % COLORS.length] ?? 37;
}

/** One line, prefixed with the child's name; JSON log records are shortened to what matters. */
export function formatChildLine(
  name: string,
  width: number,
  line: string,
  color: number | undefined,
): string {
  const prefix = name.padEnd(width);
  const shownPrefix = color === undefined ? `${prefix} |` : `\u001b[${color}m${prefix} |\u001b[0m`;
  return `${shownPrefix} ${readable(line)}`;
}

function readable(line: string): string {
  if (!line.startsWith('{')) return line;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time =
    typeof record['time'] === 'number' ? new Date(record['time']).toISOString().slice(11, 19) : '';
  const level = LEVELS[Number(record['level'])] ?? 'INFO ';
  const extras = Object.entries(record)
    .filter(([key]) => !IGNORED.has(key))
    .map(([key, value]) => `${key}=${shortValue(value)}`)
    .join(' ');
  return `${time} ${level} ${typeof record['msg'] === 'string' ? record['msg'] : ''}${extras ? `  ${extras}` : ''}`;
}

function shortValue(value: unknown): string {
  if (value && typeof value === 'object' && 'message' in value) {
    return JSON.stringify(value.message);
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
