import * as z from "zod/mini";

/*
 * Delivery of sync batches to consumers (Art. 7.2b): a consumer subscribes to a dataset its
 * permission lets it receive by sync; every record version a batch creates or deletes is
 * delivered to each subscriber, with only the fields its subscription carries, either pushed to
 * its Agent Node (signed by the platform) or deposited in its inbox. Delivery is at least once;
 * each record version carries an idempotency key so a consumer applies it exactly once.
 */

const fieldName = z.string().check(z.regex(/^[a-z][A-Za-z0-9]{0,63}$/, "must be a field name"));

/** Body of `POST /v1/subscriptions`. */
export const subscriptionInput = z.object({
  datasetId: z.string().check(z.minLength(3), z.maxLength(200)),
  /** `push`: POSTed to the consumer system's endpoint; `inbox`: kept until it reads and acknowledges them. */
  delivery: z.enum(["push", "inbox"]),
  /** For push: the path below the consumer system's registered endpoint that takes deliveries. */
  path: z.optional(
    z.string().check(z.regex(/^\/[A-Za-z0-9._~/-]{0,200}$/, "must be an absolute path"), z.maxLength(200)),
  ),
  /** The fields delivered; none means every field the permission covers. */
  fields: z.optional(z.array(fieldName).check(z.minLength(1), z.maxLength(500))),
  /** The subscribing system; defaults to the caller (the operator may subscribe another). */
  consumerSystem: z.optional(z.string().check(z.minLength(3), z.maxLength(200))),
});
export type SubscriptionInput = z.infer<typeof subscriptionInput>;

/** Query parameters of `GET /v1/subscriptions`. */
export const subscriptionQuery = z.object({
  datasetId: z.optional(z.string().check(z.maxLength(200), z.describe("Subscriptions to this dataset"))),
  consumerSystem: z.optional(
    z
      .string()
      .check(z.maxLength(200), z.describe("Subscriptions of this system (default: the caller's, unless datasetId)")),
  ),
});

export interface Subscription {
  /** `<datasetId>@<consumerSystem>`: one subscription per consumer system and dataset. */
  readonly id: string;
  readonly datasetId: string;
  readonly consumerSystem: string;
  readonly consumerAgency: string;
  readonly delivery: "push" | "inbox";
  /** Push: path below the consumer system's endpoint. */
  readonly path?: string;
  readonly fields: readonly string[];
  /** The permission that allowed it when it was made; every delivery checks again. */
  readonly permissionId: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

export function subscriptionId(datasetId: string, consumerSystem: string): string {
  return `${datasetId}@${consumerSystem}`;
}

/** One record version as a consumer receives it. */
export interface DeliveredRecord {
  /** `<datasetId>:<key>:v<version>`: the same for every delivery of this version, so it is applied once. */
  readonly idempotencyKey: string;
  readonly key: string;
  readonly version: number;
  readonly op: "upsert" | "delete";
  /** The record's permitted fields (upserts only). */
  readonly record?: Record<string, unknown>;
  readonly changedAt: string;
}

/** A change a batch made to the integrated store, before it is fanned out. */
export interface RecordChange {
  readonly key: string;
  readonly version: number;
  readonly op: "upsert" | "delete";
  readonly record: Record<string, unknown>;
  readonly changedAt: string;
}

/** What the delivery queue carries: some record versions of one batch, for one subscriber. */
export interface DeliveryMessage {
  /**
   * `<batchId>.<source>.<consumerSystem>.<part>.<digest of its record versions>`: the same when a
   * chunk is applied again and makes the same versions, another for other versions.
   */
  readonly messageId: string;
  readonly batchId: string;
  readonly datasetId: string;
  readonly providerSystem: string;
  readonly providerAgency: string;
  readonly subscriptionId: string;
  readonly consumerSystem: string;
  readonly consumerAgency: string;
  readonly delivery: "push" | "inbox";
  readonly path?: string;
  readonly fields: readonly string[];
  readonly records: readonly DeliveredRecord[];
  readonly createdAt: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export type DeliveryState = "pending" | "delivered" | "failed" | "refused";

/** Where one delivery message stands: its state, attempts and last error (one per message). */
export interface DeliveryRecord {
  readonly messageId: string;
  readonly batchId: string;
  readonly datasetId: string;
  readonly consumerSystem: string;
  readonly delivery: "push" | "inbox";
  readonly records: number;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastError?: string;
}

/** A message as the consumer reads it from its inbox. */
export interface InboxMessage {
  /** Pass to `POST /v1/inbox/ack` once applied. */
  readonly receipt: string;
  readonly messageId: string;
  readonly batchId: string;
  readonly datasetId: string;
  readonly providerSystem: string;
  readonly records: readonly DeliveredRecord[];
  readonly deliveredAt: string;
}

/** Query parameters of `GET /v1/inbox`. */
export const inboxQuery = z.object({
  datasetId: z.optional(z.string().check(z.maxLength(200), z.describe("Only messages of this dataset"))),
});

/** Body of `POST /v1/inbox/ack`. */
export const ackInput = z.object({
  receipts: z.array(z.string().check(z.minLength(1), z.maxLength(600))).check(z.minLength(1), z.maxLength(100)),
});

/** Body of `POST /v1/deliveries/redrive`. */
export const redriveInput = z.object({
  /** Only this subscriber's dead letters; the others stay. */
  consumerSystem: z.optional(z.string().check(z.minLength(3), z.maxLength(200))),
  datasetId: z.optional(z.string().check(z.minLength(3), z.maxLength(200))),
  /** At most this many messages this call. */
  max: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(1000)), 100),
});

/** Query parameters of `GET /v1/sync/batches/{batchId}/deliveries`. */
export const deliveryListQuery = z.object({
  state: z.optional(z.enum(["pending", "delivered", "failed", "refused"])),
});

/** Delivery counts of a batch, in record versions. */
export interface DeliveryCounts {
  /** Record versions queued for delivery, summed over subscribers. */
  readonly expected: number;
  readonly delivered: number;
  /** In the dead-letter queue after every attempt failed. */
  readonly failed: number;
  /** Refused at delivery: the permission had lapsed or the subscription was gone. */
  readonly refused: number;
  readonly pending: number;
}

export interface SubscriptionStore {
  /** Stores it; returns the one it replaced, if any. */
  put(subscription: Subscription): Promise<Subscription | undefined>;
  get(id: string): Promise<Subscription | undefined>;
  delete(id: string): Promise<boolean>;
  ofDataset(datasetId: string): Promise<Subscription[]>;
  ofConsumer(consumerSystem: string): Promise<Subscription[]>;
}

/** The delivery store keeps each batch's messages under the batch's key (`batchKey`: its provider and its id). */
export interface DeliveryStore {
  /** Records a message of the batch as pending; false if it was recorded before (a chunk applied again). */
  register(batch: string, record: DeliveryRecord): Promise<boolean>;
  get(batch: string, messageId: string): Promise<DeliveryRecord | undefined>;
  /** Moves a message between states; false if it was not in one of `from`. */
  transition(
    batch: string,
    messageId: string,
    from: readonly DeliveryState[],
    to: DeliveryState,
    changes: { attempts: number; at: string; lastError?: string },
  ): Promise<boolean>;
  /** Notes a failed attempt of a message that will be tried again. */
  attempted(
    batch: string,
    messageId: string,
    changes: { attempts: number; at: string; lastError: string },
  ): Promise<void>;
  list(
    batch: string,
    state: DeliveryState | undefined,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: DeliveryRecord[]; nextCursor?: string }>;
  /** Keeps a message in its consumer's inbox (once). */
  deposit(message: DeliveryMessage, at: string): Promise<void>;
  inbox(
    consumerSystem: string,
    datasetId: string | undefined,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: InboxMessage[]; nextCursor?: string }>;
  /** Removes acknowledged messages; returns the receipts that were there. */
  ack(consumerSystem: string, receipts: readonly string[]): Promise<string[]>;
}

/** The delivery queue: messages in, retries later, dead letters aside and back. */
export interface DeliveryQueue {
  send(messages: readonly DeliveryMessage[]): Promise<void>;
  /** Sends it again after `delaySeconds` (at most 900). */
  retry(message: DeliveryMessage, delaySeconds: number): Promise<void>;
  deadLetter(message: DeliveryMessage): Promise<void>;
  /**
   * Takes up to `max` dead letters: each that `prepare` turns into a message goes back to the
   * delivery queue as that message; the others are left where they are. Returns those moved.
   */
  redrive(
    max: number,
    prepare: (message: DeliveryMessage) => Promise<DeliveryMessage | undefined>,
  ): Promise<DeliveryMessage[]>;
}

/** One push to a consumer's Agent Node; resolves with its status, throws when it cannot be reached. */
export type Pusher = (request: {
  readonly consumerSystem: string;
  readonly endpoint: string;
  readonly path: string;
  readonly body: unknown;
  readonly transactionId: string;
  readonly messageId: string;
}) => Promise<{ status: number; bytes: number }>;
