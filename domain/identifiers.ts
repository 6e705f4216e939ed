import * as z from "zod/mini";

/**
 * Bounds of every identifier a caller can name, shared by the schemas that create things and
 * the checks that read them. DynamoDB refuses a partition key over 2,048 bytes and a sort key over
 * 1,024: an identifier within these bounds, with the prefixes the stores add, always fits, so an
 * overlong one is the caller's mistake (400), never the store's (500).
 */
export const MAX_ID_LENGTH = 200;
/** A record's data key (its key fields joined), in UTF-8 bytes: it becomes a sort key. */
export const MAX_RECORD_KEY_BYTES = 512;

const CONTROL = /\p{Cc}/u;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Text a key may hold: no control characters, no lone surrogates (DynamoDB and SQS refuse them). */
export function isKeyText(text: string): boolean {
  return !CONTROL.test(text) && !LONE_SURROGATE.test(text);
}

/** Largest magnitude of a number the stores keep exactly (the SDK marshals no larger one). */
const MAX_STORED_NUMBER = Number.MAX_SAFE_INTEGER;
/** Smallest non-zero magnitude DynamoDB stores. */
const MIN_STORED_NUMBER = 1e-130;
const STORED_NUMBER_RULE = `must be 0 or between ${MIN_STORED_NUMBER} and ${MAX_STORED_NUMBER} in magnitude`;

/** A number the stores keep as it is: 0, or a magnitude from 1e-130 to 2^53 - 1 (DynamoDB and its SDK refuse others). */
export function isStoredNumber(value: number): boolean {
  const magnitude = Math.abs(value);
  return value === 0 || (magnitude >= MIN_STORED_NUMBER && magnitude <= MAX_STORED_NUMBER);
}

/** A number a caller gives that is stored (a filter, a bound): refused when no store would take it. */
export const storedNumber = z.number().check(z.refine(isStoredNumber, STORED_NUMBER_RULE));

/**
 * Where a value (a record) holds numbers no store would take, by path (`a/0/b`), at most ten;
 * walked with a stack of its own, so depth costs no recursion.
 */
export function unstoredNumbers(value: unknown): Array<{ path: string; message: string }> {
  const found: Array<{ path: string; message: string }> = [];
  const pending: Array<{ value: unknown; path: string }> = [{ value, path: "" }];
  for (let next = pending.pop(); next && found.length < 10; next = pending.pop()) {
    if (typeof next.value === "number") {
      if (!isStoredNumber(next.value)) found.push({ path: next.path, message: STORED_NUMBER_RULE });
    } else if (next.value !== null && typeof next.value === "object") {
      for (const [key, child] of Object.entries(next.value)) {
        pending.push({ value: child, path: next.path ? `${next.path}/${key}` : key });
      }
    }
  }
  return found;
}

export const agencyCode = z
  .string()
  .check(z.regex(/^[A-Z][A-Z0-9]{1,15}$/, "must be 2-16 upper-case letters or digits, starting with a letter"));

export const systemId = z
  .string()
  .check(
    z.maxLength(MAX_ID_LENGTH),
    z.regex(
      /^[A-Z][A-Z0-9]{1,15}(\.[A-Z][A-Z0-9_]{0,31})+$/,
      "must be <AGENCY>.<NAME> in upper case, e.g. MPS.POPULATION",
    ),
  );

export const datasetId = z
  .string()
  .check(
    z.maxLength(MAX_ID_LENGTH),
    z.regex(
      /^[A-Z][A-Z0-9]{1,15}(\.[A-Z][A-Z0-9_]{0,31}){2,}$/,
      "must be <AGENCY>.<SYSTEM>.<NAME> in upper case, e.g. MPS.POPULATION.CITIZENS",
    ),
  );

export const kid = z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, '.', '_' or '-'"));

/** An id the platform or a caller chose (batch, request, permission, export, audit, subscription ids). */
export const opaqueId = z
  .string()
  .check(z.regex(/^[A-Za-z0-9._:#@-]{1,200}$/, "must be 1-200 letters, digits, '.', '_', ':', '#', '@' or '-'"));

/**
 * A record's data key in a path: any text without control characters, at most 512 bytes, and not
 * `.` or `..`, which URLs resolve as path segments (`%2E` too), so the platform's call to the
 * provider, `…/records/{key}`, would reach another path of the provider's endpoint.
 */
export const recordKey = z.string().check(
  z.minLength(1),
  z.maxLength(MAX_RECORD_KEY_BYTES),
  z.refine((text) => Buffer.byteLength(text) <= MAX_RECORD_KEY_BYTES, `must be at most ${MAX_RECORD_KEY_BYTES} bytes`),
  z.refine(isKeyText, "must not hold control characters or lone surrogates"),
  z.refine((text) => text !== "." && text !== "..", "must not be . or .."),
);

/**
 * Every path parameter of the API by name, as the OpenAPI document describes it and as each
 * request is checked before its handler runs. A name missing here is refused at synth by the
 * operations test, so none escapes a bound.
 */
export const PATH_PARAMETERS: Readonly<Record<string, z.ZodMiniType<string>>> = {
  agencyId: agencyCode,
  systemId,
  kid,
  datasetId,
  /** A dictionary field (camelCase) or a code list (UPPER_CASE). */
  code: z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, "must be a field or code list code")),
  schemaId: systemId,
  version: z
    .string()
    .check(z.regex(/^(\d{1,4}\.\d{1,4}\.\d{1,4}|latest)$/, "must be MAJOR.MINOR.PATCH, e.g. 1.0.0, or latest")),
  requestId: opaqueId,
  permissionId: opaqueId,
  key: recordKey,
  batchId: opaqueId,
  subscriptionId: opaqueId,
  exportId: opaqueId,
  auditId: opaqueId,
  caseId: opaqueId,
  year: z.string().check(z.regex(/^\d{4}$/, "must be a year, e.g. 2026")),
};
