import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the request authoriser. */
export const authorizerEnvironment = z.extend(baseEnvironment, {
  REGISTRY_TABLE_NAME: nonEmpty(),
  REPLAY_TABLE_NAME: nonEmpty(),
  /** The `aud` every request token must name. */
  PLATFORM_AUDIENCE: nonEmpty(),
  /** The exchange log's queue: refused exchange attempts are logged too (Art. 13). */
  LOG_QUEUE_URL: nonEmpty(),
  LOG_SHARDS: z.string().check(z.regex(/^[1-9]\d?$/, "must be 1-99")),
  /**
   * How long an execution environment trusts what it read of a system and its keys: the bound
   * within which a revoked key or a suspended system is refused everywhere (0: read every time).
   */
  REGISTRY_CACHE_SECONDS: z.string().check(z.regex(/^(0|[1-9]\d?)$/, "must be 0-99")),
});
