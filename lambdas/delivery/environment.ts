import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

const count = (what: string) => z.string().check(z.regex(/^[1-9]\d{0,3}$/, `must be ${what}`));

/** Environment contract of the delivery API (subscriptions, inboxes, redrive) and of the deliverer. */
export const deliveryEnvironment = z.extend(baseEnvironment, {
  /** Datasets, agencies and systems (endpoints). */
  REGISTRY_TABLE_NAME: nonEmpty(),
  /** Permissions, checked again at every delivery. */
  PERMISSIONS_TABLE_NAME: nonEmpty(),
  /** Subscriptions, delivery states, inboxes and the batches' delivery counts. */
  INTEGRATED_TABLE_NAME: nonEmpty(),
  DELIVERY_QUEUE_URL: nonEmpty(),
  DELIVERY_DEAD_LETTER_URL: nonEmpty(),
  /** The platform's signing key in KMS, and its identity in the tokens it signs. */
  PLATFORM_KEY_ID: nonEmpty(),
  PLATFORM_ISSUER: nonEmpty(),
  /** Attempts at a push before it is dead-lettered, and the first wait (doubling each time). */
  DELIVERY_MAX_ATTEMPTS: count("1-9999 attempts"),
  DELIVERY_BASE_DELAY_SECONDS: count("1-9999 seconds"),
  PUSH_TIMEOUT_MS: z.string().check(z.regex(/^\d+$/, "must be milliseconds")),
  /** The exchange log's FIFO queue and its number of shards. */
  LOG_QUEUE_URL: nonEmpty(),
  LOG_SHARDS: z.string().check(z.regex(/^[1-9]\d?$/, "must be 1-99")),
});
