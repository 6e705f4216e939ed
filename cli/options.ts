import { UsageError, type Values } from "./command.ts";

/** The options of every paged listing. */
export const paging = {
  limit: { type: "string", hint: "page size, 1-100" },
  cursor: { type: "string", hint: "the cursor a previous page printed" },
} as const;

/** Where a report's table and chart are also written. */
export const reportFiles = {
  csv: { type: "string", hint: "also write the table as CSV to this file" },
  chart: { type: "string", hint: "also draw it as a chart in this SVG file (*.svg)" },
} as const;

/** The key set an offline verification checks signatures with. */
export const keySetOption = {
  keys: {
    type: "string",
    hint: "the platform's key set as dscp platform-keys printed it (default: fetched from the platform)",
  },
} as const;

/** Filters on a dataset's records, as `query` and `export create` take them (see {@link filtersOf}). */
export const whereOption = {
  where: { type: "string", multiple: true, hint: "field=value (a string) or field:=JSON; repeatable" },
} as const;

/** A comma-separated option as its items, blanks dropped. */
export function list(value: Values[string]): string[] {
  return String(value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Only the members that were given. */
export function optional(members: Record<string, Values[string]>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(members).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/** Only the comma-separated members that were given (and not empty), each as its items. */
export function optionalLists(members: Record<string, Values[string]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(members)
      .filter((entry) => Boolean(entry[1]))
      .map(([name, value]) => [name, list(value)]),
  );
}

/** The page a listing asks for: `--limit` and `--cursor`, when given. */
export function pageOf(values: Values): { limit?: number; cursor?: string } {
  return { ...(values.limit ? { limit: Number(values.limit) } : {}), ...optional({ cursor: values.cursor }) };
}

/** A page's items mapped (each to one row, or to several), its cursor kept. */
export function mapPage<T, U>(page: { items: readonly T[]; nextCursor?: string }, map: (item: T) => U | readonly U[]) {
  return { items: page.items.flatMap(map), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

/** The `--where` clauses as a filter object. */
export function filtersOf(values: Values): Record<string, unknown> {
  return Object.fromEntries(((values.where as string[] | undefined) ?? []).map(whereClause));
}

/** `field=value` is a string; `field:=value` is JSON (a number, true, false). */
export function whereClause(clause: string): [string, unknown] {
  const typed = /^([^:=]+):=(.*)$/.exec(clause);
  if (typed) {
    try {
      return [typed[1] as string, JSON.parse(typed[2] as string)];
    } catch {
      throw new UsageError(`--where ${clause}: the value after := must be JSON`);
    }
  }
  const plain = /^([^=]+)=(.*)$/.exec(clause);
  if (!plain) throw new UsageError(`--where ${clause}: expected field=value`);
  return [plain[1] as string, plain[2]];
}
