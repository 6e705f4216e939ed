import { randomUUID } from "node:crypto";
import type { CatalogStore, Dataset } from "../catalog/model.ts";
import type { ExchangeLog } from "../exchange/model.ts";
import { type AttemptResult, CounterpartFailedError, recordAttempt } from "../exchange-log/attempt.ts";
import { isAdmin, isOverseer } from "../identity/authorization.ts";
import { AccessRefusedError } from "../permissions/errors.ts";
import type { Permission, PermissionStore } from "../permissions/model.ts";
import { pick } from "../permissions/projection.ts";
import { authorizeUse, isForeign } from "../permissions/use-check.ts";
import { ForbiddenError, NotFoundError, ProblemError } from "../problem.ts";
import { ENDPOINT_NOT_APPROVED } from "../registry/endpoint-policy.ts";
import type { Agency, Caller, RegistryStore } from "../registry/model.ts";
import { type BatchStore, batchKey } from "../sync/model.ts";
import { parseInput } from "../validation.ts";
import {
  ackInput,
  type DeliveredRecord,
  type DeliveryMessage,
  type DeliveryQueue,
  type DeliveryState,
  type DeliveryStore,
  type Pusher,
  redriveInput,
  type Subscription,
  type SubscriptionStore,
  subscriptionId,
  subscriptionInput,
} from "./model.ts";

/** SQS delays a message at most 15 minutes. */
const MAX_DELAY_SECONDS = 900;

/** How often, and how patiently, a push is tried before its message is dead-lettered. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** The wait before the second attempt; each later wait doubles, up to 15 minutes. */
  readonly baseDelaySeconds: number;
}

/** A subscription the platform cannot take as asked. */
export class SubscriptionRefusedError extends ProblemError {
  constructor(slug: string, detail: string) {
    super(422, `subscription:${slug}`, "The subscription cannot be made", detail);
  }
}

/** The consumer's Agent Node did not take a push; `slug` names the problem in the log. */
export class PushFailedError extends CounterpartFailedError {
  constructor(status: number, message: string, options?: ErrorOptions & { slug?: string }) {
    super(status, options?.slug ?? "delivery-failed", message, options);
  }
}

/** What became of one delivery message. */
export type DeliveryOutcome = "delivered" | "duplicate" | "refused" | "retrying" | "dead-lettered";

/**
 * Delivers what sync batches change to the consumers subscribed to the dataset (Art. 7.2b).
 * A message is registered before it is queued and moves pending → delivered, refused or failed
 * exactly once, which is when the batch's delivery counts move. Pushes that fail are tried again
 * later with exponential backoff, then dead-lettered for an operator to redrive.
 */
export class DeliveryService {
  constructor(
    private readonly deps: {
      readonly catalog: Pick<CatalogStore, "getDataset">;
      readonly registry: Pick<RegistryStore, "getAgency" | "getSystem">;
      readonly permissions: Pick<PermissionStore, "permissionsOf">;
      readonly subscriptions: SubscriptionStore;
      readonly deliveries: DeliveryStore;
      readonly batches: Pick<BatchStore, "countDeliveries">;
      readonly queue: DeliveryQueue;
      readonly pusher?: Pusher;
      /** The exchange log (Art. 13): one entry per delivery attempt. */
      readonly log?: ExchangeLog;
      readonly retry?: RetryPolicy;
      readonly now?: () => Date;
    },
  ) {}

  /**
   * Subscribes a consumer system to a dataset's sync deliveries. Its permission must allow the
   * `sync` method now and cover the fields asked for; a second subscription to the same dataset
   * replaces the first.
   */
  async subscribe(caller: Caller, input: unknown): Promise<{ subscription: Subscription; created: boolean }> {
    const parsed = parseInput(subscriptionInput, input, "subscription");
    const consumerSystem = parsed.consumerSystem ?? caller.systemId;
    if (consumerSystem !== caller.systemId && !isAdmin(caller)) {
      throw new ForbiddenError("a system subscribes itself; only the operator subscribes another");
    }
    const dataset = await this.dataset(parsed.datasetId);
    if (!dataset.methods.includes("sync")) {
      throw new SubscriptionRefusedError("method-not-offered", `${dataset.id} is not shared by sync (Art. 7.2b)`);
    }
    const found = await this.deps.registry.getSystem(consumerSystem);
    if (!found) throw new NotFoundError(`no system ${consumerSystem}`);
    if (parsed.delivery === "push" && !found.system.endpoint) {
      throw new SubscriptionRefusedError(
        "no-endpoint",
        `${consumerSystem} has no registered endpoint to push to: register one, or subscribe with delivery "inbox"`,
      );
    }
    const permission = await this.permitted(
      consumerSystem,
      await this.deps.registry.getAgency(found.system.agencyCode),
      dataset,
      parsed.fields,
    );
    const subscription: Subscription = {
      id: subscriptionId(dataset.id, consumerSystem),
      datasetId: dataset.id,
      consumerSystem,
      consumerAgency: found.system.agencyCode,
      delivery: parsed.delivery,
      ...(parsed.delivery === "push" ? { path: parsed.path ?? "/dscp/deliveries" } : {}),
      fields: parsed.fields ?? permission.fields,
      permissionId: permission.id,
      createdAt: this.now().toISOString(),
      createdBy: caller.systemId,
    };
    const replaced = await this.deps.subscriptions.put(subscription);
    return { subscription, created: replaced === undefined };
  }

  /** Subscriptions to a dataset, or of a system (the caller's by default), as far as the caller may see them. */
  async subscriptions(caller: Caller, query: { datasetId?: string; consumerSystem?: string }): Promise<Subscription[]> {
    if (query.datasetId) {
      const dataset = await this.deps.catalog.getDataset(query.datasetId);
      const all = await this.deps.subscriptions.ofDataset(query.datasetId);
      const providerSees = dataset?.managingAgency === caller.agencyCode;
      return all.filter(
        (subscription) =>
          (isOverseer(caller) || providerSees || subscription.consumerAgency === caller.agencyCode) &&
          (!query.consumerSystem || subscription.consumerSystem === query.consumerSystem),
      );
    }
    const all = await this.deps.subscriptions.ofConsumer(query.consumerSystem ?? caller.systemId);
    return all.filter((subscription) => isOverseer(caller) || subscription.consumerAgency === caller.agencyCode);
  }

  /** Ends a subscription: its agency or the operator. Messages already queued are refused at delivery. */
  async unsubscribe(caller: Caller, id: string): Promise<Subscription> {
    const subscription = await this.deps.subscriptions.get(id);
    if (!subscription) throw new NotFoundError(`no subscription ${id}`);
    if (subscription.consumerAgency !== caller.agencyCode && !isAdmin(caller)) {
      throw new ForbiddenError(`${id} belongs to ${subscription.consumerAgency}`);
    }
    await this.deps.subscriptions.delete(id);
    return subscription;
  }

  /**
   * Delivers one message (the deliverer's job), checking the subscription and the permission
   * again at this moment: revocation and expiry take effect at once. Each attempt is one entry in
   * the exchange log. Throws only when the platform itself failed, so the queue retries.
   */
  async deliver(message: DeliveryMessage): Promise<DeliveryOutcome> {
    const tracked = await this.deps.deliveries.get(messageBatch(message), message.messageId);
    if (tracked && tracked.state !== "pending") return "duplicate";
    const started = Date.now();
    const transactionId = randomUUID();
    const at = this.now().toISOString();
    let permission: Permission | undefined;
    let records = message.records;
    let crossBorder = false;
    const logAttempt = (result: AttemptResult, bytes = 0) =>
      this.deps.log &&
      recordAttempt(
        this.deps.log,
        {
          transactionId,
          started,
          consumerSystem: message.consumerSystem,
          consumerAgency: message.consumerAgency,
          datasetId: message.datasetId,
          dataset: { providerSystem: message.providerSystem, managingAgency: message.providerAgency },
          operation: "sync-delivery",
          method: "sync",
          batchId: message.batchId,
          deliveryId: message.messageId,
          attempt: message.attempt,
          ...(permission ? { permission } : {}),
          fieldsReturned: fieldsOf(records),
          recordCount: records.length,
          bytes,
          crossBorder,
        },
        result,
      );
    try {
      const subscription = await this.deps.subscriptions.get(message.subscriptionId);
      if (!subscription) {
        throw new AccessRefusedError(
          "no-permission",
          `${message.consumerSystem} no longer subscribes to ${message.datasetId}`,
        );
      }
      const dataset = await this.dataset(message.datasetId);
      const agency = await this.deps.registry.getAgency(message.consumerAgency);
      crossBorder = agency ? isForeign(agency) : false;
      permission = await this.permitted(message.consumerSystem, agency, dataset, subscription.fields);
      // The subscription may have narrowed since the message was made: deliver no more than it has now.
      records = narrowed(message.records, subscription.fields);
      let status = 200;
      let bytes = 0;
      if (subscription.delivery === "inbox") {
        await this.deps.deliveries.deposit({ ...message, records }, at);
        bytes = Buffer.byteLength(JSON.stringify(records));
      } else {
        ({ status, bytes } = await this.push(message, subscription, records, transactionId));
      }
      if (
        await this.deps.deliveries.transition(messageBatch(message), message.messageId, ["pending"], "delivered", {
          attempts: message.attempt,
          at,
        })
      ) {
        await this.deps.batches.countDeliveries(messageBatch(message), { delivered: message.records.length });
      }
      await logAttempt({ status }, bytes);
      return "delivered";
    } catch (error) {
      if (error instanceof AccessRefusedError || (error instanceof NotFoundError && !permission)) {
        if (
          await this.deps.deliveries.transition(messageBatch(message), message.messageId, ["pending"], "refused", {
            attempts: message.attempt,
            at,
            lastError: (error as Error).message,
          })
        ) {
          await this.deps.batches.countDeliveries(messageBatch(message), { refused: message.records.length });
        }
        await logAttempt({ error });
        return "refused";
      }
      if (!(error instanceof PushFailedError)) throw error;
      await logAttempt({ error });
      return this.afterFailure(message, error.message, at);
    }
  }

  /**
   * Moves dead-lettered messages back to the delivery queue (the operator, once the consumer is
   * fixed): each starts again at its first attempt, and what counted as failed counts as pending.
   */
  async redrive(caller: Caller, input: unknown): Promise<{ redriven: number; messages: string[] }> {
    if (!isAdmin(caller)) throw new ForbiddenError("only the operator redrives dead-lettered deliveries");
    const { consumerSystem, datasetId, max } = parseInput(redriveInput, input, "redrive");
    const moved = await this.deps.queue.redrive(max, async (message) => {
      if (consumerSystem && message.consumerSystem !== consumerSystem) return undefined;
      if (datasetId && message.datasetId !== datasetId) return undefined;
      const at = this.now().toISOString();
      // A message dead-lettered because the deliverer crashed is still pending: nothing to recount.
      if (
        await this.deps.deliveries.transition(messageBatch(message), message.messageId, ["failed"], "pending", {
          attempts: 0,
          at,
        })
      ) {
        await this.deps.batches.countDeliveries(messageBatch(message), { failed: -message.records.length });
      }
      return { ...message, attempt: 1 };
    });
    return { redriven: moved.length, messages: moved.map((message) => message.messageId) };
  }

  /** The caller system's inbox, oldest first. */
  inbox(caller: Caller, datasetId: string | undefined, page: { limit: number; cursor?: string }) {
    return this.deps.deliveries.inbox(caller.systemId, datasetId, page);
  }

  /** Removes messages the caller has applied from its inbox; names the receipts it did not hold. */
  async ack(caller: Caller, input: unknown): Promise<{ acknowledged: number; unknown: string[] }> {
    const { receipts } = parseInput(ackInput, input, "acknowledgement");
    const removed = new Set(await this.deps.deliveries.ack(caller.systemId, receipts));
    return { acknowledged: removed.size, unknown: receipts.filter((receipt) => !removed.has(receipt)) };
  }

  /** Where each delivery message of a batch (named by its key) stands (readers of the batch decide who calls this). */
  deliveries(batchId: string, state: DeliveryState | undefined, page: { limit: number; cursor?: string }) {
    return this.deps.deliveries.list(batchId, state, page);
  }

  private async afterFailure(message: DeliveryMessage, reason: string, at: string): Promise<DeliveryOutcome> {
    const policy = this.deps.retry ?? { maxAttempts: 8, baseDelaySeconds: 30 };
    if (message.attempt < policy.maxAttempts) {
      await this.deps.deliveries.attempted(messageBatch(message), message.messageId, {
        attempts: message.attempt,
        at,
        lastError: reason,
      });
      const delay = Math.min(MAX_DELAY_SECONDS, policy.baseDelaySeconds * 2 ** (message.attempt - 1));
      await this.deps.queue.retry({ ...message, attempt: message.attempt + 1 }, delay);
      return "retrying";
    }
    await this.deps.queue.deadLetter(message);
    if (
      await this.deps.deliveries.transition(messageBatch(message), message.messageId, ["pending"], "failed", {
        attempts: message.attempt,
        at,
        lastError: reason,
      })
    ) {
      await this.deps.batches.countDeliveries(messageBatch(message), { failed: message.records.length });
    }
    return "dead-lettered";
  }

  private async push(
    message: DeliveryMessage,
    subscription: Subscription,
    records: readonly DeliveredRecord[],
    transactionId: string,
  ): Promise<{ status: number; bytes: number }> {
    if (!this.deps.pusher) throw new Error("pushing is not connected here");
    const found = await this.deps.registry.getSystem(message.consumerSystem);
    const endpoint = found?.system.endpoint;
    if (!endpoint) throw new PushFailedError(502, `${message.consumerSystem} has no registered endpoint`);
    // Nothing flows to an endpoint before the operator approves it; the push is tried again later.
    if (found?.system.endpointStatus !== "approved") {
      throw new PushFailedError(503, `the endpoint of ${message.consumerSystem} awaits the operator's approval`, {
        slug: ENDPOINT_NOT_APPROVED,
      });
    }
    const result = await this.deps.pusher({
      consumerSystem: message.consumerSystem,
      endpoint,
      path: subscription.path ?? "/dscp/deliveries",
      transactionId,
      messageId: message.messageId,
      body: {
        messageId: message.messageId,
        datasetId: message.datasetId,
        batchId: message.batchId,
        providerSystem: message.providerSystem,
        attempt: message.attempt,
        records,
      },
    });
    if (result.status < 200 || result.status >= 300) {
      throw new PushFailedError(result.status, `${message.consumerSystem} answered ${result.status}`);
    }
    return result;
  }

  /** The consumer's usable sync permission covering `fields`, or the reason it has none. */
  private async permitted(
    consumerSystem: string,
    agency: Agency | undefined,
    dataset: Dataset,
    fields: readonly string[] | undefined,
  ): Promise<Permission> {
    if (!agency) throw new NotFoundError(`no agency of ${consumerSystem}`);
    return authorizeUse(await this.deps.permissions.permissionsOf(consumerSystem, dataset.id), {
      consumerSystem,
      consumerAgency: agency,
      dataset,
      method: "sync",
      ...(fields ? { requestedFields: fields } : {}),
      now: this.now(),
    });
  }

  private async dataset(id: string): Promise<Dataset> {
    const dataset = await this.deps.catalog.getDataset(id);
    if (!dataset) throw new NotFoundError(`no dataset ${id} in the catalog`);
    return dataset;
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}

function narrowed(records: readonly DeliveredRecord[], fields: readonly string[]): DeliveredRecord[] {
  return records.map((record) => (record.record ? { ...record, record: pick(record.record, fields) } : record));
}

function fieldsOf(records: readonly DeliveredRecord[]): string[] {
  return [...new Set(records.flatMap((record) => Object.keys(record.record ?? {})))].sort();
}

/** Where the message's batch, and its deliveries, are kept: batch ids are their provider's own. */
function messageBatch(message: Pick<DeliveryMessage, "providerSystem" | "batchId">): string {
  return batchKey(message.providerSystem, message.batchId);
}
