import { baseEnvironment } from "../shared/environment.ts";

/** Environment contract of the OpenAPI document function: nothing beyond the base. */
export const openApiEnvironment = baseEnvironment;
