import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the exchange-log functions (appender and API). */
export const exchangeLogEnvironment = z.extend(baseEnvironment, {
  LOG_TABLE_NAME: nonEmpty(),
  LOG_SHARDS: z.string().check(z.regex(/^[1-9]\d?$/, "must be 1-99")),
});

/** The functions that verify the log against its signed checkpoints (reader, scheduled verifier). */
export const logVerificationEnvironment = z.extend(exchangeLogEnvironment, {
  /** The log-archive bucket: signed checkpoints and the entries they cover. */
  ARCHIVE_BUCKET_NAME: nonEmpty(),
  /** The platform's signing key in KMS, whose public half verifies checkpoints. */
  PLATFORM_KEY_ID: nonEmpty(),
});

/** The checkpointer: reads the table, signs with the platform key, writes the archive. */
export const checkpointerEnvironment = z.extend(logVerificationEnvironment, {
  /** The platform's identity (its audience), named as a checkpoint's issuer. */
  PLATFORM_ISSUER: nonEmpty(),
});

/** The public checkpoint routes: read the archive's checkpoints, nothing else. */
export const checkpointsEnvironment = z.extend(baseEnvironment, {
  ARCHIVE_BUCKET_NAME: nonEmpty(),
});
