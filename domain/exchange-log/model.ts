import * as z from "zod/mini";
import { pageLimit } from "../paging.ts";

const instant = z.iso.datetime({ offset: true });

/** Query parameters of `GET /v1/logs`. */
export const logQuery = z.object({
  view: z.optional(
    z
      .enum(["consumer", "provider", "all"])
      .check(
        z.describe(
          "Whose entries: the caller's agency as consumer (default), as provider, or (operator, supervisor) all",
        ),
      ),
  ),
  from: z.optional(instant.check(z.describe("Entries at or after this time (ISO 8601)"))),
  to: z.optional(instant.check(z.describe("Entries before this time (ISO 8601)"))),
  datasetId: z.optional(z.string().check(z.maxLength(200))),
  outcome: z.optional(z.enum(["allowed", "denied", "failed"])),
});
export type LogQueryParameters = z.infer<typeof logQuery>;

/** Query parameters of `GET /v1/logs/checkpoints`: the cursor is the number of the last checkpoint listed. */
export const checkpointPageQuery = z.object({
  limit: pageLimit,
  cursor: z.optional(
    z
      .string()
      .check(
        z.regex(/^[1-9][0-9]{0,11}$/, "must be the nextCursor of the previous page"),
        z.describe("The `nextCursor` of the previous page: the number of the oldest checkpoint it listed"),
      ),
  ),
});
