import * as z from "zod/mini";
import type { DeliveryMessage } from "../../domain/delivery/model.ts";
import { type Exactly, isObject, type Parsed, type Same } from "./message-schema.ts";

/** A record's fields, as the provider sent them. */
const recordFields = z.custom<Record<string, unknown>>(isObject, "must be an object");

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
  fields: z.readonly(z.array(z.string())),
  records: z.readonly(z.array(z.object(deliveredRecordShape))),
  createdAt: z.string(),
  attempt: z.number(),
};
export type DeliveryMessageIsDeliveryMessage = Exactly<Same<Parsed<typeof deliveryShape>, DeliveryMessage>>;
/** The delivery queue: some record versions of one batch, for one subscriber. */
export const deliveryMessage = z.object(deliveryShape);
