import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of the dictionary function (dictionary, master data, standardisation). */
export const dictionaryEnvironment = z.extend(baseEnvironment, {
  REGISTRY_TABLE_NAME: nonEmpty(),
});
