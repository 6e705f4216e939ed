import { createHash } from "node:crypto";
import { groupsOf } from "../batching.ts";
import { pick } from "../permissions/projection.ts";
import { type BatchStore, batchKey } from "../sync/model.ts";
import type {
  DeliveredRecord,
  DeliveryMessage,
  DeliveryQueue,
  DeliveryStore,
  RecordChange,
  SubscriptionStore,
} from "./model.ts";

/** At most this many record versions, and about this many bytes, per delivery message. */
const MESSAGE_RECORDS = 100;
const MESSAGE_BYTES = 200_000;

/**
 * Turns what a batch changed into delivery messages for the dataset's subscribers (Art. 7.2b):
 * what the sync workers call after applying each part of a batch, before the part counts as done.
 */
export class FanOut {
  constructor(
    private readonly deps: {
      readonly subscriptions: Pick<SubscriptionStore, "ofDataset">;
      readonly deliveries: Pick<DeliveryStore, "register">;
      readonly batches: Pick<BatchStore, "countDeliveries">;
      readonly queue: Pick<DeliveryQueue, "send">;
      readonly now?: () => Date;
    },
  ) {}

  /**
   * Fans the changes one part of a batch made out to the dataset's subscribers: one message per
   * subscriber and up to 100 record versions, each carrying only the subscription's fields. The
   * `source` names the part (a chunk, a window, a page of tombstones) and a digest the record
   * versions a message carries: applying the part again makes the same messages, which the
   * deliverer recognises, and a message with other versions never takes the id of one sent before.
   */
  async run(
    batch: { batchId: string; datasetId: string; providerSystem: string; providerAgency: string },
    source: string,
    changes: readonly RecordChange[],
  ): Promise<number> {
    if (changes.length === 0) return 0;
    const subscribers = await this.deps.subscriptions.ofDataset(batch.datasetId);
    if (subscribers.length === 0) return 0;
    const createdAt = this.now().toISOString();
    const messages: DeliveryMessage[] = [];
    for (const subscription of subscribers) {
      const records = changes.map((change) => delivered(batch.datasetId, change, subscription.fields));
      for (const [part, group] of groupsOf(records, MESSAGE_RECORDS, MESSAGE_BYTES).entries()) {
        messages.push({
          messageId: `${batch.batchId}.${source}.${subscription.consumerSystem}.${part}.${versionsDigest(group)}`,
          batchId: batch.batchId,
          datasetId: batch.datasetId,
          providerSystem: batch.providerSystem,
          providerAgency: batch.providerAgency,
          subscriptionId: subscription.id,
          consumerSystem: subscription.consumerSystem,
          consumerAgency: subscription.consumerAgency,
          delivery: subscription.delivery,
          ...(subscription.path ? { path: subscription.path } : {}),
          fields: subscription.fields,
          records: group,
          createdAt,
          attempt: 1,
        });
      }
    }
    const key = batchKey(batch.providerSystem, batch.batchId);
    const fresh = await Promise.all(
      messages.map((message) =>
        this.deps.deliveries.register(key, {
          messageId: message.messageId,
          batchId: message.batchId,
          datasetId: message.datasetId,
          consumerSystem: message.consumerSystem,
          delivery: message.delivery,
          records: message.records.length,
          state: "pending",
          attempts: 0,
          createdAt,
          updatedAt: createdAt,
        }),
      ),
    );
    const expected = messages.reduce((sum, message, index) => sum + (fresh[index] ? message.records.length : 0), 0);
    if (expected > 0) await this.deps.batches.countDeliveries(key, { expected });
    await this.deps.queue.send(messages);
    return messages.length;
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}

/** 16 hex digits of SHA-256 over the record versions a message carries (their idempotency keys). */
function versionsDigest(records: readonly DeliveredRecord[]): string {
  const hash = createHash("sha256");
  for (const record of records) hash.update(`${record.idempotencyKey}\n`);
  return hash.digest("hex").slice(0, 16);
}

/** A change as one subscriber receives it: its fields only, with the version's idempotency key. */
function delivered(datasetId: string, change: RecordChange, fields: readonly string[]): DeliveredRecord {
  return {
    idempotencyKey: `${datasetId}:${change.key}:v${change.version}`,
    key: change.key,
    version: change.version,
    op: change.op,
    ...(change.op === "upsert" ? { record: pick(change.record, fields) } : {}),
    changedAt: change.changedAt,
  };
}
