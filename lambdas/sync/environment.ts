import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the sync worker, which applies chunks. */
export const syncWorkerEnvironment = z.extend(baseEnvironment, {
  /** Datasets and dictionary schemas. */
  REGISTRY_TABLE_NAME: nonEmpty(),
  /** The integrated store and the sync batches. */
  INTEGRATED_TABLE_NAME: nonEmpty(),
  /** Where a batch's chunks wait for the workers. */
  SYNC_QUEUE_URL: nonEmpty(),
  /** Uploaded batch files and their partitions. */
  UPLOADS_BUCKET_NAME: nonEmpty(),
  /** Where the changes batches make wait for delivery to subscribers (7.2b). */
  DELIVERY_QUEUE_URL: nonEmpty(),
});

/** Environment contract of the sync API, which also logs every submission. */
export const syncApiEnvironment = z.extend(syncWorkerEnvironment, {
  /** The exchange log's FIFO queue and its number of shards. */
  LOG_QUEUE_URL: nonEmpty(),
  LOG_SHARDS: z.string().check(z.regex(/^[1-9]\d?$/, "must be 1-99")),
  /** The state machine that processes uploaded batches. */
  SYNC_STATE_MACHINE_ARN: nonEmpty(),
});
