import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the OpenAPI document function. */
export const openApiEnvironment = z.extend(baseEnvironment, {
  /** Where the dictionary's schemas are read from, to appear as components. */
  REGISTRY_TABLE_NAME: nonEmpty(),
});
