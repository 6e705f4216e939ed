import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the public disclosure function, which reads and never writes. */
export const disclosureEnvironment = z.extend(baseEnvironment, {
  /** The catalog's datasets. */
  REGISTRY_TABLE_NAME: nonEmpty(),
  /** The published rankings. */
  INTEGRATED_TABLE_NAME: nonEmpty(),
  /** The exchange log (figures) and each dataset's connection date. */
  LOG_TABLE_NAME: nonEmpty(),
});
