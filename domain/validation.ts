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
  const prototypeKeys = nestedPrototypeKeys(value);
  if (result.success && prototypeKeys.length === 0) return result.data;
  const invalidParams: InvalidParam[] = [
    ...(result.success ? [] : result.error.issues).map((issue) => ({
      name: issue.path.length > 0 ? issue.path.join("/") : "(body)",
      reason: issue.message,
    })),
    ...prototypeKeys.map((name) => ({ name, reason: "is not an accepted name" })),
  ];
  throw new ValidationError(`${what}: ${invalidParams.length} invalid field(s)`, invalidParams);
}

/**
 * Paths of members named `__proto__` below the top level (filters, records, keys), at most
 * {@link MAX_REPORTED}. JSON.parse makes them own members, but zod drops such a key from a record
 * without a word, so a filter or a record field of that name would silently vanish; no DSCP name
 * can be `__proto__`. (At the top level it is an unknown member like any other, which schemas
 * ignore, query parameters too.) Walked with a stack of its own and parent links, so neither
 * nesting depth nor size costs more than one visit per value.
 */
export function nestedPrototypeKeys(value: unknown): string[] {
  type Visit = { readonly node: object; readonly key: string; readonly parent?: Visit };
  const found: string[] = [];
  const pending: Visit[] = [];
  const visitChildren = (node: object, parent?: Visit) => {
    for (const [key, child] of Object.entries(node)) {
      if (child !== null && typeof child === "object")
        pending.push({ node: child, key, ...(parent ? { parent } : {}) });
    }
  };
  const pathOf = (visit: Visit): string => {
    const keys: string[] = [];
    for (let at: Visit | undefined = visit; at; at = at.parent) keys.push(at.key);
    return keys.reverse().join("/");
  };
  if (value !== null && typeof value === "object") visitChildren(value);
  for (let visit = pending.pop(); visit && found.length < MAX_REPORTED; visit = pending.pop()) {
    if (!Array.isArray(visit.node) && Object.hasOwn(visit.node, "__proto__")) found.push(`${pathOf(visit)}/__proto__`);
    visitChildren(visit.node, visit);
  }
  return found.sort();
}

const MAX_REPORTED = 10;

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
