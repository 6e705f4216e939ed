import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the exchange-log functions (appender and API). */
export const exchangeLogEnvironment = z.extend(baseEnvironment, {
  LOG_TABLE_NAME: nonEmpty(),
  LOG_SHARDS: z.string().check(z.regex(/^[1-9]\d?$/, "must be 1-99")),
});
