/**
 * Only the wanted (hence permitted) fields of a record leave the platform: the fields of `record`
 * named in `fields`, in that order, and no other. A field is the record's own property only: a
 * field named like an `Object.prototype` member (`constructor`, `toString`) that the record lacks
 * is absent, not the inherited function.
 */
export function pick(record: Readonly<Record<string, unknown>>, fields: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    fields.filter((field) => Object.hasOwn(record, field)).map((field) => [field, record[field]]),
  );
}
