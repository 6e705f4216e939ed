/** Attributes the single-table design adds to every item; never part of a domain record. */
const TABLE_KEYS = ["pk", "sk", "gsi1pk", "gsi1sk", "kind"] as const;

/** An item without the table's own key attributes. */
export function withoutTableKeys<T>(item: Record<string, unknown>): T {
  const record = { ...item };
  for (const key of TABLE_KEYS) delete record[key];
  return record as T;
}
