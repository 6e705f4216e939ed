import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the platform key-set function. */
export const platformKeysEnvironment = z.extend(baseEnvironment, {
  /** The platform's signing key in KMS. */
  PLATFORM_KEY_ID: nonEmpty(),
});
