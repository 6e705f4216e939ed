import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the request authoriser. */
export const authorizerEnvironment = z.extend(baseEnvironment, {
  REGISTRY_TABLE_NAME: nonEmpty(),
  REPLAY_TABLE_NAME: nonEmpty(),
  /** The `aud` every request token must name. */
  PLATFORM_AUDIENCE: nonEmpty(),
});
