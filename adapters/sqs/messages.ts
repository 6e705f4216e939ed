import * as z from "zod/mini";
import type { DeliveryMessage } from "../../domain/delivery/model.ts";
import type { ExchangeEntry } from "../../domain/exchange/model.ts";
import type { OversightDeps } from "../../domain/oversight/oversight-service.ts";
import { type Chunk, type Operation, operationSchema } from "../../domain/sync/model.ts";

/*
 * What each work queue carries, as its worker parses it. Each schema is checked at compile time
 * to parse exactly its domain type (a field added to the type fails the build until it is added
 * here). Records and other payloads the platform carries for its users are checked but passed on
 * as they came, never copied or stripped.
 */

/** Compiles only when `A` and `B` are assignable both ways. The `…Is…` types below are these checks (exported only so that they count as used). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Exactly<T extends true> = T;
type Parsed<Shape extends z.core.$ZodShape> = z.output<z.ZodMiniObject<Shape>>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A record's fields, as the provider sent them. */
const recordFields = z.custom<Record<string, unknown>>(isObject, "must be an object");
const strings = z.readonly(z.array(z.string()));

const operationShape = {
  index: z.number(),
  key: z.string(),
  operation: z.custom<Operation>((value) => operationSchema.safeParse(value).success, "must be an upsert or a delete"),
};
const chunkShape = {
  batchId: z.string(),
  providerSystem: z.optional(z.string()),
  datasetId: z.string(),
  chunk: z.number(),
  mode: z.enum(["incremental", "full"]),
  operations: z.readonly(z.array(z.object(operationShape))),
};
export type ChunkMessageIsChunk = Exactly<Same<Parsed<typeof chunkShape>, Chunk>>;
/** The sync workers' queue: one chunk of a batch to apply to the integrated store. */
export const chunkMessage = z.object(chunkShape);

const deliveredRecordShape = {
  idempotencyKey: z.string(),
  key: z.string(),
  version: z.number(),
  op: z.enum(["upsert", "delete"]),
  record: z.optional(recordFields),
  changedAt: z.string(),
};
const deliveryShape = {
  messageId: z.string(),
  batchId: z.string(),
  datasetId: z.string(),
  providerSystem: z.string(),
  providerAgency: z.string(),
  subscriptionId: z.string(),
  consumerSystem: z.string(),
  consumerAgency: z.string(),
  delivery: z.enum(["push", "inbox"]),
  path: z.optional(z.string()),
  fields: strings,
  records: z.readonly(z.array(z.object(deliveredRecordShape))),
  createdAt: z.string(),
  attempt: z.number(),
};
export type DeliveryMessageIsDeliveryMessage = Exactly<Same<Parsed<typeof deliveryShape>, DeliveryMessage>>;
/** The delivery queue: some record versions of one batch, for one subscriber. */
export const deliveryMessage = z.object(deliveryShape);

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
  fieldsReturned: strings,
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

type OversightWork = Parameters<OversightDeps["queue"]>[0][number];
const oversightShapes = [{ auditId: z.string() }, { rankingYear: z.number() }] as const;
export type OversightMessageIsOversightWork = Exactly<
  Same<Parsed<(typeof oversightShapes)[0]> | Parsed<(typeof oversightShapes)[1]>, OversightWork>
>;
/** The oversight queue: an audit to run, by id, or a year to rank. */
export const oversightMessage = z.union([z.object(oversightShapes[0]), z.object(oversightShapes[1])]);
