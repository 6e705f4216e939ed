import * as z from "zod/mini";

/*
 * Placeholder of H3's schema of one local backend entry (Contract 3), so the node's local
 * configuration can be written against it; H3's file replaces this one.
 */

export type LocalBackend =
  | {
      type: "sql";
      host: string;
      port: number;
      database: string;
      user: string;
      passwordEnv?: string | undefined;
      ssl?: boolean | undefined;
      poolMax?: number | undefined;
    }
  | {
      type: "rest";
      baseUrl: string;
      headers?: Record<string, string> | undefined;
      timeoutMs?: number | undefined;
    };

export const localBackend: z.ZodMiniType<LocalBackend> = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("sql"),
    host: z.string(),
    port: z.number(),
    database: z.string(),
    user: z.string(),
    passwordEnv: z.optional(z.string()),
    ssl: z.optional(z.boolean()),
    poolMax: z.optional(z.number()),
  }),
  z.object({
    type: z.literal("rest"),
    baseUrl: z.string(),
    headers: z.optional(z.record(z.string(), z.string())),
    timeoutMs: z.optional(z.number()),
  }),
]);
