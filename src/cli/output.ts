import { Option } from 'commander';

/** The `--registry` option every client command takes. */
export function registryUrlOption(): Option {
  return new Option('--registry <url>', 'registry URL (env REGISTRY_URL)')
    .env('REGISTRY_URL')
    .default('http://127.0.0.1:9000');
}

/** Prints rows as an aligned text table. */
export function printTable(
  rows: readonly Record<string, string>[],
  columns: readonly string[],
): void {
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns.map((column) => column.toUpperCase()))}\n`);
  for (const row of rows)
    process.stdout.write(`${line(columns.map((column) => row[column] ?? ''))}\n`);
  if (rows.length === 0) process.stdout.write('(none)\n');
}
