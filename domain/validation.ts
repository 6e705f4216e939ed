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

/** Parses a JSON request body, naming the problem when it is not JSON. */
export function parseJsonBody(body: string | null | undefined): unknown {
  if (body === null || body === undefined || body === "") return {};
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new ValidationError("the request body is not valid JSON", [{ name: "(body)", reason: "not valid JSON" }], {
      cause: error,
    });
  }
}
