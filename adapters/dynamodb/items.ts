/** An item without the attributes the table design adds: keys, index keys, the kind marker. */
export function withoutTableKeys<T>(item: Record<string, unknown>): T {
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (key === "pk" || key === "sk" || key === "kind" || /^gsi\d+(pk|sk)$/.test(key)) continue;
    record[key] = value;
  }
  return record as T;
}

/**
 * A filter expression requiring each defined attribute of `filter` to equal its value, with
 * the names and values it needs; `values` may already hold the key condition's.
 */
export function equalityFilter(
  filter: Readonly<Record<string, unknown>>,
  values: Record<string, unknown>,
): { FilterExpression?: string; ExpressionAttributeNames?: Record<string, string> } {
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  for (const [name, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    conditions.push(`#${name} = :${name}`);
    names[`#${name}`] = name;
    values[`:${name}`] = value;
  }
  return conditions.length > 0 ? { FilterExpression: conditions.join(" AND "), ExpressionAttributeNames: names } : {};
}
