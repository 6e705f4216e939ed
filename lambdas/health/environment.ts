import { z } from "zod";
import { baseEnvironment } from "../shared/environment.ts";

/** Environment contract of the health function. */
export const healthEnvironment = baseEnvironment.extend({
  /** Table probed to show the data tier answers. */
  REGISTRY_TABLE_NAME: z.string().min(1),
});

export type HealthEnvironment = z.infer<typeof healthEnvironment>;
