import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the oversight API and of its worker (audits, rankings, compliance). */
export const oversightEnvironment = z.extend(baseEnvironment, {
  /** Datasets and dictionary schemas. */
  REGISTRY_TABLE_NAME: nonEmpty(),
  /** Permissions on each audited dataset. */
  PERMISSIONS_TABLE_NAME: nonEmpty(),
  /** The records audited, and the audits and rankings themselves. */
  INTEGRATED_TABLE_NAME: nonEmpty(),
  /** The exchange log: usage, denials, and when each dataset was first connected. */
  LOG_TABLE_NAME: nonEmpty(),
  /** Where audits and rankings wait for the worker. */
  OVERSIGHT_QUEUE_URL: nonEmpty(),
});
