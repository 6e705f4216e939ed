import * as z from "zod/mini";
import {
  ackInput,
  type InboxMessage,
  inboxQuery,
  redriveInput,
  type Subscription,
  subscriptionInput,
  subscriptionQuery,
} from "../domain/delivery/model.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { type AllTrue, type Describes, instant, named, page, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/* Subscriptions to sync deliveries (Art. 7.2b), inboxes, and the redrive of dead letters. */

export const subscription = z.object({
  id: z.string().check(z.describe("<datasetId>@<consumerSystem>: one per consumer system and dataset")),
  datasetId: z.string(),
  consumerSystem: z.string(),
  consumerAgency: z.string(),
  delivery: z.enum(["push", "inbox"]),
  path: z.optional(z.string().check(z.describe("Push: the path below the system's endpoint that takes deliveries"))),
  fields: z.array(z.string()),
  permissionId: z.string().check(z.describe("The permission that allowed it; every delivery checks again")),
  createdAt: instant,
  createdBy: z.string(),
});

export const subscriptionList = z.object({ items: z.array(subscription) });

const deliveredRecord = z.object({
  idempotencyKey: z
    .string()
    .check(z.describe("<datasetId>:<key>:v<version>, the same on every delivery of this version: apply it once")),
  key: z.string(),
  version: z.number().check(z.int(), z.describe("Apply only if newer than the version you hold")),
  op: z.enum(["upsert", "delete"]),
  record: z.optional(z.record(z.string(), z.unknown()).check(z.describe("The subscription's fields (upserts)"))),
  changedAt: instant,
});

export const inboxMessage = z.object({
  receipt: z.string().check(z.describe("Pass to POST /v1/inbox/ack once applied")),
  messageId: z.string(),
  batchId: z.string(),
  datasetId: z.string(),
  providerSystem: z.string(),
  records: z.array(deliveredRecord),
  deliveredAt: instant,
});

export const acknowledgement = z.object({
  acknowledged: z.number().check(z.int()),
  unknown: z.array(z.string()).check(z.describe("Receipts not in the caller's inbox (acknowledged before?)")),
});

export const redriven = z.object({
  redriven: z.number().check(z.int()),
  messages: z.array(z.string()),
});

/** Served by the delivery API function. */
export const deliveryRoutes = routes({
  subscribe: {
    method: "POST",
    path: "/v1/subscriptions",
    tag: "Delivery",
    summary: "Subscribe a consumer system to a dataset's sync deliveries (Art. 7.2b)",
    description:
      "The consumer's permission must allow the sync method now and cover the fields asked for (none: all it covers). From then on every record version a batch creates or deletes is delivered with those fields only: pushed to the system's registered endpoint plus `path`, signed by the platform (aud = the consumer system, Idempotency-Key = the message id), or kept in its inbox. A second subscription to the same dataset replaces the first (200). New subscriptions reach the sync workers within 5 seconds.",
    auth: "signed",
    body: named("SubscriptionRequest", subscriptionInput),
    success: {
      status: 201,
      description: "Subscribed (200: replaced the earlier subscription)",
      schema: named("Subscription", subscription),
    },
    problems: [...signedProblems, 404, 422],
  },
  listSubscriptions: {
    method: "GET",
    path: "/v1/subscriptions",
    tag: "Delivery",
    summary: "Subscriptions to a dataset, or of a system (the caller's by default)",
    auth: "signed",
    query: [subscriptionQuery],
    success: {
      status: 200,
      description: "The subscriptions the caller may see",
      schema: named("SubscriptionList", subscriptionList),
    },
    problems: signedProblems,
  },
  unsubscribe: {
    method: "DELETE",
    path: "/v1/subscriptions/{subscriptionId}",
    tag: "Delivery",
    summary: "End a subscription (its agency or the operator); queued deliveries are then refused",
    auth: "signed",
    success: {
      status: 200,
      description: "The subscription ended",
      schema: named("Subscription", subscription),
    },
    problems: [401, 403, 404],
  },
  readInbox: {
    method: "GET",
    path: "/v1/inbox",
    tag: "Delivery",
    summary: "The caller system's inbox of deliveries, oldest first; messages stay until acknowledged",
    description:
      "Delivery is at least once: apply each record by its idempotency key, and only if its version is newer than the one you hold, then acknowledge the message's receipt.",
    auth: "signed",
    query: [inboxQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of messages",
      schema: named("InboxPage", page(inboxMessage)),
    },
    problems: signedProblems,
  },
  acknowledgeInbox: {
    method: "POST",
    path: "/v1/inbox/ack",
    tag: "Delivery",
    summary: "Acknowledge applied inbox messages by their receipts (up to 100); they leave the inbox",
    auth: "signed",
    body: named("Acknowledgement", ackInput),
    success: {
      status: 200,
      description: "How many were removed, and the receipts not found",
      schema: named("AcknowledgementResult", acknowledgement),
    },
    problems: signedProblems,
  },
  redriveDeliveries: {
    method: "POST",
    path: "/v1/deliveries/redrive",
    tag: "Delivery",
    summary: "Move dead-lettered deliveries back to the delivery queue (operator), optionally one subscriber's",
    description:
      "Each message starts again at its first attempt; its records count as pending again on their batch. Messages not matching the filters stay in the dead-letter queue.",
    auth: "signed",
    body: named("Redrive", redriveInput),
    success: { status: 200, description: "The messages moved", schema: named("Redriven", redriven) },
    problems: signedProblems,
  },
});

export type DeliveryDriftChecks = AllTrue<
  [Describes<typeof subscription, Subscription>, Describes<typeof inboxMessage, InboxMessage>]
>;
