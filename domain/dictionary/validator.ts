import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { JsonSchema } from "./model.ts";

/** One way a record breaks its schema: where, which rule, in words. */
export interface RecordError {
  /** Path of the offending value inside the record, `/`-separated (`addresses/0/province`). */
  readonly path: string;
  /** The JSON Schema keyword it broke: type, format, pattern, enum, required, additionalProperties… */
  readonly rule: string;
  readonly message: string;
}

/** Checks a record; returns every error, none when it conforms. */
export type RecordCheck = (record: unknown) => RecordError[];

/**
 * Validates records against published schema versions with ajv, compiling each version once
 * per process (versions never change, so `$id` names the compiled code for good).
 */
export class RecordValidator {
  // ownProperties: a field may be named `constructor` or `toString`; an inherited member is not a value.
  private readonly ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true, ownProperties: true });

  constructor() {
    addFormats.default(this.ajv);
    // The dictionary's annotations: meaning for people, no rule for the validator.
    this.ajv.addVocabulary(["x-field", "x-codeList", "x-unit", "x-keyFields"]);
  }

  /** The compiled check of a schema version. */
  compile(schema: JsonSchema): ValidateFunction {
    const id = typeof schema.$id === "string" ? schema.$id : undefined;
    const known = id ? this.ajv.getSchema(id) : undefined;
    return (known as ValidateFunction | undefined) ?? this.ajv.compile(schema);
  }

  /**
   * A check of whole records, or, with `present`, of records that carry only those fields (what
   * a consumer asked for): a required field it did not ask for is not missing.
   */
  check(schema: JsonSchema, present?: readonly string[]): RecordCheck {
    const validate = this.compile(schema);
    const asked = present ? new Set(present) : undefined;
    return (record) => {
      if (validate(record)) return [];
      const errors = (validate.errors ?? []).map(recordError);
      return asked ? errors.filter((error) => error.rule !== "required" || asked.has(error.path)) : errors;
    };
  }
}

function recordError(error: ErrorObject): RecordError {
  const base = error.instancePath.replace(/^\//, "").replace(/~1/g, "/").replace(/~0/g, "~");
  const params = error.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
  const child = params.missingProperty ?? params.additionalProperty;
  const path = child ? (base ? `${base}/${child}` : child) : base || "(record)";
  let message = error.message ?? error.keyword;
  if (error.keyword === "additionalProperties") message = "is not a field of this schema";
  if (error.keyword === "required") message = "is required";
  if (error.keyword === "enum") {
    const allowed = params.allowedValues ?? [];
    message = `must be one of the allowed values${allowed.length <= 10 ? ` (${allowed.map(String).join(", ")})` : ""}`;
  }
  return { path, rule: error.keyword, message };
}
