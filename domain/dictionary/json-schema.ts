import type { InvalidParam } from "../problem.ts";
import type { Field, FieldUse, JsonSchema } from "./model.ts";

/** Where published schemas live as JSON Schema documents: `$id` of a version. */
export function schemaUri(id: string, version: string): string {
  return `urn:dscp:schema:${id}:${version}`;
}

/** The JSON Schema of one field's values, annotated with what the dictionary says of it. */
export function fieldSchema(field: Field, codes: readonly string[] | undefined): JsonSchema {
  const schema: JsonSchema = { title: field.name, description: field.description, "x-field": field.code };
  switch (field.type) {
    case "date":
      Object.assign(schema, { type: "string", format: "date" });
      break;
    case "date-time":
      Object.assign(schema, { type: "string", format: "date-time" });
      break;
    case "code":
      Object.assign(schema, { type: "string", enum: [...(codes ?? [])], "x-codeList": field.codeList });
      break;
    default:
      schema.type = field.type;
  }
  if (field.format) schema.format = field.format;
  if (field.pattern) schema.pattern = field.pattern;
  if (field.minLength !== undefined) schema.minLength = field.minLength;
  if (field.maxLength !== undefined) schema.maxLength = field.maxLength;
  if (field.minimum !== undefined) schema.minimum = field.minimum;
  if (field.maximum !== undefined) schema.maximum = field.maximum;
  if (field.allowedValues) schema.enum = [...field.allowedValues];
  if (field.unit) schema["x-unit"] = field.unit;
  return schema;
}

/**
 * Compiles a schema version to a self-contained JSON Schema (2020-12): each record an object
 * of the schema's fields, nothing else; required fields required; code lists inlined as they
 * are now, so the document means the same thing years later, offline.
 */
export function compileSchema(
  input: {
    id: string;
    version: string;
    title: string;
    description?: string;
    fields: readonly FieldUse[];
    keyFields: readonly string[];
  },
  fields: ReadonlyMap<string, Field>,
  codeLists: ReadonlyMap<string, readonly string[]>,
): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const use of input.fields) {
    const field = fields.get(use.field);
    if (!field) throw new Error(`field ${use.field} was not resolved`);
    const values = fieldSchema(field, field.codeList ? codeLists.get(field.codeList) : undefined);
    properties[use.field] = use.multiple ? { type: "array", items: values } : values;
  }
  const required = input.fields.filter((use) => use.required || input.keyFields.includes(use.field));
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: schemaUri(input.id, input.version),
    title: input.title,
    ...(input.description ? { description: input.description } : {}),
    type: "object",
    properties,
    required: required.map((use) => use.field),
    additionalProperties: false,
    "x-keyFields": [...input.keyFields],
  };
}

const CONSTRAINTS_NOT_LOOSER: ReadonlyArray<[string, "min" | "max"]> = [
  ["minLength", "min"],
  ["maxLength", "max"],
  ["minimum", "min"],
  ["maximum", "max"],
];

/**
 * What in `next` a consumer of `previous` could not rely on any more: removed or newly
 * required properties, changed types, formats or patterns, fewer allowed values, tighter
 * bounds, another data key. Empty when `next` is a compatible (minor or patch) change.
 */
export function breakingChanges(previous: JsonSchema, next: JsonSchema): InvalidParam[] {
  const changes: InvalidParam[] = [];
  const before = (previous.properties ?? {}) as Record<string, JsonSchema>;
  const after = (next.properties ?? {}) as Record<string, JsonSchema>;
  const requiredBefore = new Set((previous.required ?? []) as string[]);
  const requiredAfter = new Set((next.required ?? []) as string[]);
  for (const name of Object.keys(before)) {
    if (!Object.hasOwn(after, name)) changes.push({ name: `fields/${name}`, reason: "removed" });
  }
  for (const [name, schema] of Object.entries(after)) {
    // Own properties only: a field may be named `constructor` or `toString`.
    const old = Object.hasOwn(before, name) ? before[name] : undefined;
    if (!old) {
      if (requiredAfter.has(name)) changes.push({ name: `fields/${name}`, reason: "added as required" });
      continue;
    }
    if (requiredAfter.has(name) && !requiredBefore.has(name)) {
      changes.push({ name: `fields/${name}`, reason: "now required" });
    }
    changes.push(...valueChanges(`fields/${name}`, old, schema));
  }
  if (JSON.stringify(previous["x-keyFields"]) !== JSON.stringify(next["x-keyFields"])) {
    changes.push({ name: "keyFields", reason: "the data key changed" });
  }
  return changes;
}

function valueChanges(path: string, old: JsonSchema, next: JsonSchema): InvalidParam[] {
  if (old.type === "array" || next.type === "array") {
    if (old.type !== next.type) return [{ name: path, reason: "changed between one value and a list" }];
    return valueChanges(`${path}/items`, old.items as JsonSchema, next.items as JsonSchema);
  }
  const changes: InvalidParam[] = [];
  for (const keyword of ["type", "format", "pattern"]) {
    if (old[keyword] !== next[keyword]) {
      changes.push({
        name: path,
        reason: `${keyword} changed from ${String(old[keyword] ?? "none")} to ${String(next[keyword] ?? "none")}`,
      });
    }
  }
  if (Array.isArray(next.enum)) {
    const allowed = new Set(next.enum as unknown[]);
    const removed = Array.isArray(old.enum) ? (old.enum as unknown[]).filter((value) => !allowed.has(value)) : null;
    if (removed === null) changes.push({ name: path, reason: "values now restricted to a list" });
    else if (removed.length > 0) {
      const shown = removed.slice(0, 10).map(String).join(", ");
      changes.push({ name: path, reason: `values no longer allowed: ${shown}${removed.length > 10 ? ", …" : ""}` });
    }
  }
  for (const [keyword, kind] of CONSTRAINTS_NOT_LOOSER) {
    const before = old[keyword] as number | undefined;
    const after = next[keyword] as number | undefined;
    if (after === undefined || before === after) continue;
    if (before === undefined || (kind === "min" ? after > before : after < before)) {
      changes.push({ name: path, reason: `${keyword} tightened from ${before ?? "none"} to ${after}` });
    }
  }
  return changes;
}

/** `a` compared with `b` as semantic versions: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const left = a.split(".").map(Number);
  const right = b.split(".").map(Number);
  for (let index = 0; index < 3; index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}
