/** A table of figures as a benchmark prints it. */
export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number>>;
}

/** Formats a table with aligned columns (numbers right-aligned, text left-aligned). */
export function formatTable(table: Table): string {
  const cells = table.rows.map((row) => row.map(formatCell));
  const widths = table.columns.map((column, at) =>
    Math.max(column.length, ...cells.map((row) => row[at]?.length ?? 0)),
  );
  const line = (values: readonly string[], numeric: readonly boolean[]): string =>
    values
      .map((value, at) =>
        numeric[at] ? value.padStart(widths[at] ?? 0) : value.padEnd(widths[at] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const numericColumns = table.columns.map((_c, at) =>
    table.rows.every((row) => typeof row[at] === 'number'),
  );
  const header = line(table.columns, numericColumns);
  return [
    `== ${table.title}`,
    header,
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...cells.map((row) => line(row, numericColumns)),
  ].join('\n');
}

function formatCell(value: string | number): string {
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}
