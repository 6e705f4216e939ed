// zod/mini: the tree-shakable build, so a handler bundles only the checks it uses.
import * as z from "zod/mini";

/**
 * Variables every DSCP function receives. Each function's own contract extends this one;
 * the construct that sets the variables and the handler that reads them share the schema.
 */
export const baseEnvironment = z.object({
  DSCP_STAGE: z.enum(["local", "dev", "prod"]),
  DSCP_VERSION: nonEmpty(),
  POWERTOOLS_SERVICE_NAME: nonEmpty(),
  POWERTOOLS_METRICS_NAMESPACE: nonEmpty(),
});

/** A variable that must be set to something. */
export function nonEmpty() {
  return z.string().check(z.minLength(1));
}

export type BaseEnvironment = z.infer<typeof baseEnvironment>;

/** Thrown when a function starts with an environment that breaks its contract. */
export class EnvironmentError extends Error {
  override readonly name = "EnvironmentError";
}

/**
 * Parses `source` (by default `process.env`) against `schema` and names every missing or
 * malformed variable. Call it once, lazily, and keep the result at module scope.
 */
export function parseEnvironment<S extends z.ZodMiniType>(
  schema: S,
  source: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(source);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new EnvironmentError(`invalid function environment: ${problems.join("; ")}`, { cause: result.error });
  }
  return result.data;
}

/** Memoises {@link parseEnvironment} so a warm function parses its environment once. */
export function lazyEnvironment<S extends z.ZodMiniType>(schema: S): () => z.infer<S> {
  let parsed: z.infer<S> | undefined;
  return () => {
    parsed ??= parseEnvironment(schema);
    return parsed;
  };
}
