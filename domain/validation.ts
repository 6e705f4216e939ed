import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { type InvalidParam, ValidationError } from "./problem.ts";

// zod/mini ships no messages; English alone keeps handler bundles small (all locales: ~260 KB).
// Schemas import zod/mini themselves: re-exporting its namespace from here would pull in every
// locale. Parsing goes through parseInput, so this module, and its configuration, is loaded.
z.config(en());

/**
 * Parses `value` with `schema`, or throws a {@link ValidationError} naming every offending
 * field by its path (`keys/0/jwk/crv`) and the rule it broke.
 */
export function parseInput<S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const invalidParams: InvalidParam[] = result.error.issues.map((issue) => ({
    name: issue.path.length > 0 ? issue.path.join("/") : "(body)",
    reason: issue.message,
  }));
  throw new ValidationError(`${what}: ${invalidParams.length} invalid field(s)`, invalidParams);
}

/**
 * How deeply a JSON document may nest. Everything downstream (canonical JSON, schema validation,
 * projection) recurses; this bound, checked on the text before parsing, keeps every one of them
 * far from the stack's limit. A sync batch's record sits four levels down, so records may nest
 * 60 levels.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether JSON text nests objects and arrays at most `max` deep: one pass, no recursion. */
export function jsonDepthWithin(text: string, max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c)
        index++; // a backslash escapes the next character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      if (++depth > max) return false;
    } else if (code === 0x7d || code === 0x5d) depth--;
  }
  return true;
}

/** Parses a JSON request body, naming the problem when it is not JSON or nests too deeply. */
export function parseJsonBody(body: string | null | undefined): unknown {
  if (body === null || body === undefined || body === "") return {};
  if (!jsonDepthWithin(body)) {
    throw new ValidationError(`the request body nests deeper than ${MAX_JSON_DEPTH} levels`, [
      { name: "(body)", reason: `nests deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  }
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new ValidationError("the request body is not valid JSON", [{ name: "(body)", reason: "not valid JSON" }], {
      cause: error,
    });
  }
}
