/** A value as a table cell: lists joined by commas, objects as JSON, text on one line and cut at 60 characters. */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).replace(/\s+/g, " ").slice(0, 60);
}

/** A table's lines, header first, each column as wide as its widest cell. */
export function tableLines(items: readonly object[], columns: readonly string[]): string[] {
  const rows = items.map((item) => columns.map((column) => cell((item as Record<string, unknown>)[column])));
  const widths = columns.map((column, index) => Math.max(column.length, ...rows.map((row) => row[index]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    `${cells
      .map((text, index) => text.padEnd(widths[index] ?? 0))
      .join("  ")
      .trimEnd()}\n`;
  return [columns, ...rows].map(line);
}

/** The id a script wants from what a command printed: a decision's permission, else the thing's own id. */
export function idOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown> & { permission?: { id?: unknown }; request?: { id?: unknown } };
  const id = record.permission?.id ?? record.request?.id ?? record.id ?? record.code ?? record.kid ?? record.caseId;
  return typeof id === "string" ? id : undefined;
}

/** A record that failed validation, one error a line: `line 3: /birthDate: format: must match format "date"`. */
export function errorLine(line: number, error: { path: string; rule: string; message: string }): string {
  return `line ${line}: ${error.path}: ${error.rule}: ${error.message}\n`;
}
