import { dataKeyOf } from "../catalog/model.ts";
import type { RecordCheck } from "../dictionary/validator.ts";
import { isKeyText, MAX_RECORD_KEY_BYTES, unstoredNumbers } from "../identifiers.ts";
import { nestedPrototypeKeys } from "../validation.ts";
import { type Operation, operationSchema, type Rejection } from "./model.ts";

/*
 * A batch's operations checked against its dataset's schema and keys, the same way whether the
 * batch came inline or as an uploaded file.
 */

/** A valid operation, with its index in the batch and its record's key. */
export interface ValidOperation {
  readonly index: number;
  readonly key: string;
  readonly operation: Operation;
}

/** Every operation checked; the valid ones by key, a later one on the same key superseding an earlier one. */
export function validateOperations(operations: readonly unknown[], check: RecordCheck, keyFields: readonly string[]) {
  const byKey = new Map<string, ValidOperation>();
  const rejections: Rejection[] = [];
  let rejected = 0;
  operations.forEach((raw, index) => {
    const verdict = judge(raw, check, keyFields);
    if (!("operation" in verdict)) {
      rejected++;
      rejections.push({ index, ...(verdict.key ? { key: verdict.key } : {}), errors: verdict.errors });
      return;
    }
    byKey.set(verdict.key, { index, key: verdict.key, operation: verdict.operation });
  });
  const valid = [...byKey.values()].sort((a, b) => a.index - b.index);
  return { valid, rejections, rejected, collapsed: operations.length - rejected - valid.length };
}

/** One operation: valid, with its record's key; or its errors. */
export function judge(
  raw: unknown,
  check: RecordCheck,
  keyFields: readonly string[],
): { key: string; operation: Operation } | { key?: string; errors: Rejection["errors"] } {
  // A record field or key member named __proto__ would vanish in parsing; refused by path, as
  // parseInput refuses it in an inline batch, so an uploaded line holding one is not applied without it.
  const prototypeKeys = nestedPrototypeKeys(raw);
  if (prototypeKeys.length > 0) {
    return { errors: prototypeKeys.map((path) => ({ path, rule: "name", message: "is not an accepted name" })) };
  }
  const parsed = operationSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      errors: parsed.error.issues.map((issue) => ({
        path: issue.path.join("/") || "(operation)",
        rule: issue.code,
        message: issue.message,
      })),
    };
  }
  const key =
    parsed.data.op === "upsert"
      ? dataKeyOf(parsed.data.record, keyFields)
      : typeof parsed.data.key === "string"
        ? parsed.data.key
        : dataKeyOf(parsed.data.key, keyFields);
  // The key becomes part of a store key: one DynamoDB would refuse is this record's fault, not the batch's.
  if (Buffer.byteLength(key) > MAX_RECORD_KEY_BYTES || !isKeyText(key)) {
    return {
      errors: [
        {
          path: "key",
          rule: "key",
          message: `must be at most ${MAX_RECORD_KEY_BYTES} bytes without control characters`,
        },
      ],
    };
  }
  if (parsed.data.op === "upsert") {
    const errors = check(parsed.data.record);
    if (errors.length > 0) return { key, errors };
    // A number the schema allows but the integrated database cannot hold is this record's fault, not its chunk's.
    const unstored = unstoredNumbers(parsed.data.record).map(({ path, message }) => ({
      path,
      rule: "number",
      message,
    }));
    return unstored.length > 0 ? { key, errors: unstored } : { key, operation: parsed.data };
  }
  return key.split("|").some((part) => part === "")
    ? { key, errors: [{ path: "key", rule: "required", message: `must give ${keyFields.join(", ")}` }] }
    : { key, operation: parsed.data };
}
