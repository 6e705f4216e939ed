import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the permissions function. */
export const permissionsEnvironment = z.extend(baseEnvironment, {
  REGISTRY_TABLE_NAME: nonEmpty(),
  PERMISSIONS_TABLE_NAME: nonEmpty(),
});
