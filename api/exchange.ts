import * as z from "zod/mini";
import { queryInput, recordQuery } from "../domain/exchange/model.ts";
import { named, record, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/* Request-based exchange (Art. 7.2a): a record by key, or a query, permitted fields only. */

export const exchangeRecord = z.object({ datasetId: z.string(), key: z.string(), record });

export const exchangePage = z.object({
  datasetId: z.string(),
  items: z.array(record),
  nextCursor: z.optional(z.string()),
});

/**
 * Served by the exchange function, which verifies the request token itself (no authoriser hop on
 * the busiest path); a refused attempt at either is logged as an exchange attempt.
 */
export const exchangeRoutes = routes({
  getRecord: {
    method: "GET",
    path: "/v1/exchange/{datasetId}/records/{key}",
    tag: "Exchange",
    summary: "One record by its data key, permitted fields only (Art. 7.2a)",
    auth: "signed-in-function",
    query: [recordQuery],
    success: { status: 200, description: "The record", schema: named("ExchangeRecord", exchangeRecord) },
    problems: [...signedProblems, 404, 502, 503, 504],
    exchangeAttempt: "get-record",
  },
  queryRecords: {
    method: "POST",
    path: "/v1/exchange/{datasetId}/query",
    tag: "Exchange",
    summary: "Records matching equality filters on permitted fields, a page at a time (Art. 7.2a)",
    auth: "signed-in-function",
    body: named("Query", queryInput),
    success: { status: 200, description: "A page of records", schema: named("ExchangePage", exchangePage) },
    problems: [...signedProblems, 404, 502, 503, 504],
    exchangeAttempt: "query",
  },
});
