import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the catalog function. */
export const catalogEnvironment = z.extend(baseEnvironment, {
  REGISTRY_TABLE_NAME: nonEmpty(),
});
