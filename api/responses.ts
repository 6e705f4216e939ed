import * as z from "zod/mini";
import type { ProblemDetails } from "../domain/problem.ts";

/*
 * What every capability's responses are built from: the response schemas themselves live beside
 * the routes that answer with them (`api/<capability>.ts`). The domain's own types are the source
 * of truth: each file's drift checks fail to compile when a schema and the type it describes
 * drift apart.
 */

export const instant = z.string().check(z.describe("ISO 8601 date-time"));

export const problemDetails = z.object({
  type: z.string().check(z.describe("urn:dscp:problem:<kind>; clients branch on this, never on title or detail")),
  title: z.string(),
  status: z.number().check(z.int()),
  detail: z.optional(z.string()),
  instance: z.optional(z.string()),
  transactionId: z.optional(z.string()),
  invalidParams: z.optional(
    z.array(
      z.object({
        name: z.string().check(z.describe("Path of the offending field, e.g. keys/0/jwk/crv")),
        reason: z.string(),
      }),
    ),
  ),
});

export const record = z.record(z.string(), z.unknown());
export const recordError = z.object({ path: z.string(), rule: z.string(), message: z.string() });

/** A page of a listing. */
export function page<T extends z.ZodMiniType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.optional(z.string().check(z.describe("Pass as `cursor` for the next page; absent on the last"))),
  });
}

/** A named component: request bodies and responses of the OpenAPI document. */
export const named = (name: string, schema: z.ZodMiniType) => ({ name, schema });

/** Problems every signed route may answer with. */
export const signedProblems = [400, 401, 403] as const;

// ---- Drift checks (compile-time only) ----

type Plain<T> = T extends readonly (infer U)[]
  ? Plain<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Plain<T[K]> }
    : T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** `true` when schema `S` describes exactly the domain type `T`. */
export type Describes<S extends z.ZodMiniType, T> = Same<Plain<z.output<S>>, Plain<T>>;

/** Compiles only if every element is `true`. */
export type AllTrue<T extends readonly true[]> = T;

export type DriftChecks = AllTrue<[Describes<typeof problemDetails, ProblemDetails>]>;
