import type * as z from "zod/mini";

/*
 * Helpers of the work queues' message schemas (`*-message.ts`): what each queue carries, as its
 * worker parses it. Each schema is checked at compile time to parse exactly its domain type (a
 * field added to the type fails the build until it is added to the schema). Records and other
 * payloads the platform carries for its users are checked but passed on as they came, never
 * copied or stripped. One file per queue, so that each worker bundles only its own schema.
 */

/** Compiles only when `A` and `B` are assignable both ways. The `…Is…` types of the message files are these checks (exported only so that they count as used). */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type Exactly<T extends true> = T;
/** What a plain object schema of `Shape` parses to. */
export type Parsed<Shape extends z.core.$ZodShape> = z.output<z.ZodMiniObject<Shape>>;

/** Whether `value` is a JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
