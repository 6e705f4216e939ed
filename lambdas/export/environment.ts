import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the export API and of the job that writes packages. */
export const exportEnvironment = z.extend(baseEnvironment, {
  /** Datasets, agencies, systems and dictionary schemas. */
  REGISTRY_TABLE_NAME: nonEmpty(),
  PERMISSIONS_TABLE_NAME: nonEmpty(),
  /** The integrated database, whose records are exported, and the export jobs. */
  INTEGRATED_TABLE_NAME: nonEmpty(),
  EXPORTS_BUCKET_NAME: nonEmpty(),
  /** The platform's signing key in KMS, and its identity, named in packages. */
  PLATFORM_KEY_ID: nonEmpty(),
  PLATFORM_ISSUER: nonEmpty(),
  /** The exchange log's FIFO queue and its number of shards. */
  LOG_QUEUE_URL: nonEmpty(),
  LOG_SHARDS: z.string().check(z.regex(/^[1-9]\d?$/, "must be 1-99")),
});

/** The API also starts jobs. */
export const exportApiEnvironment = z.extend(exportEnvironment, {
  EXPORT_STATE_MACHINE_ARN: nonEmpty(),
});
