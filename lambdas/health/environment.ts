import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the health function. */
export const healthEnvironment = z.extend(baseEnvironment, {
  /** Table probed to show the data tier answers. */
  REGISTRY_TABLE_NAME: nonEmpty(),
});

export type HealthEnvironment = z.infer<typeof healthEnvironment>;
