import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the registry function. */
export const registryEnvironment = z.extend(baseEnvironment, {
  REGISTRY_TABLE_NAME: nonEmpty(),
});
