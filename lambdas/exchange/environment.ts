import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the exchange function. */
export const exchangeEnvironment = z.extend(baseEnvironment, {
  REGISTRY_TABLE_NAME: nonEmpty(),
  PERMISSIONS_TABLE_NAME: nonEmpty(),
  /** The National Integrated Database, for datasets shared through it. */
  INTEGRATED_TABLE_NAME: nonEmpty(),
  /** The platform's signing key in KMS. */
  PLATFORM_KEY_ID: nonEmpty(),
  /** The platform's identity in the tokens it signs (its audience). */
  PLATFORM_ISSUER: nonEmpty(),
  UPSTREAM_TIMEOUT_MS: z.string().check(z.regex(/^\d+$/, "must be milliseconds")),
  /** Token ids already used: the exchange routes authenticate their requests themselves. */
  REPLAY_TABLE_NAME: nonEmpty(),
  /**
   * How long an execution environment trusts what it read of a system and its keys: the bound
   * within which a revoked key or a suspended system is refused everywhere (0: read every time).
   */
  REGISTRY_CACHE_SECONDS: z.string().check(z.regex(/^(0|[1-9]\d?)$/, "must be 0-99")),
  /**
   * How long an execution environment trusts the permissions it read for a consumer system and a
   * dataset: the bound within which a revoked permission is refused everywhere (0: read every time).
   */
  PERMISSION_CACHE_SECONDS: z.string().check(z.regex(/^(0|[1-9]\d?)$/, "must be 0-99")),
  /** The exchange log's FIFO queue and its number of shards. */
  LOG_QUEUE_URL: nonEmpty(),
  LOG_SHARDS: z.string().check(z.regex(/^[1-9]\d?$/, "must be 1-99")),
});
