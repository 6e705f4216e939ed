import * as z from "zod/mini";
import type { ExchangeEntry } from "../../domain/exchange/model.ts";
import type { Exactly, Parsed, Same } from "./message-schema.ts";

const exchangeEntryShape = {
  transactionId: z.string(),
  time: z.string(),
  consumerSystem: z.string(),
  consumerAgency: z.string(),
  claimedIssuer: z.optional(z.string()),
  datasetId: z.string(),
  providerSystem: z.optional(z.string()),
  providerAgency: z.optional(z.string()),
  operation: z.enum(["get-record", "query", "sync-batch", "sync-delivery", "export"]),
  submittedBy: z.optional(z.string()),
  batchId: z.optional(z.string()),
  deliveryId: z.optional(z.string()),
  attempt: z.optional(z.number()),
  method: z.enum(["request", "integrated", "sync", "export"]),
  purpose: z.optional(z.string()),
  purposeClass: z.optional(z.string()),
  permissionId: z.optional(z.string()),
  fieldsReturned: z.readonly(z.array(z.string())),
  recordCount: z.number(),
  invalidRecords: z.optional(z.number()),
  outcome: z.enum(["allowed", "denied", "failed"]),
  status: z.number(),
  problemType: z.optional(z.string()),
  latencyMs: z.number(),
  bytes: z.number(),
  crossBorder: z.boolean(),
};
export type ExchangeEntryMessageIsExchangeEntry = Exactly<Same<Parsed<typeof exchangeEntryShape>, ExchangeEntry>>;
/**
 * The exchange log's queue: one entry. Loose: the entry is hashed into its chain as it was
 * queued, so nothing in it is dropped here.
 */
export const exchangeEntryMessage = z.looseObject(exchangeEntryShape);
