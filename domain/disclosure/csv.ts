/*
 * CSV (RFC 4180) for the public downloads: a header row, then one row per item, CRLF line
 * ends, every text cell quoted when it holds a comma, a quote or a line break. A text cell that
 * a spreadsheet would read as a formula (=, +, -, @, tab, carriage return first) is prefixed
 * with an apostrophe: the files are opened by anyone, in anything.
 */

export type CsvCell = string | number | boolean | null | undefined;

/** The CSV text of `rows` under `columns` (the header); a missing cell is empty. */
export function toCsv(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<CsvCell>>): string {
  return [columns, ...rows]
    .map((row) => row.map(csvCell).join(","))
    .join("\r\n")
    .concat("\r\n");
}

/** One cell, quoted and neutralised as needed. */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return "";
  if (typeof value !== "string") return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
