import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the sync functions (API and worker). */
export const syncEnvironment = z.extend(baseEnvironment, {
  /** Datasets and dictionary schemas. */
  REGISTRY_TABLE_NAME: nonEmpty(),
  /** The integrated store and the sync batches. */
  INTEGRATED_TABLE_NAME: nonEmpty(),
  /** Where a batch's chunks wait for the workers. */
  SYNC_QUEUE_URL: nonEmpty(),
});
