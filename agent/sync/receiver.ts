import type { DeliveredRecord } from "../../domain/delivery/model.ts";
import { type ApplyResult, type DeliveryStore, InvalidDeliveryError } from "./store.ts";

/*
 * A push of the platform's delivery queue, once the node has verified the platform's token on it
 * (as demo/consumer.ts does): its record versions applied into the subscription's store. The
 * answer tells the platform what to do: 200 (applied, or applied before), 400 (a push this node
 * will never apply: dead-lettered after its attempts), 503 (nothing applied, try again later).
 */

/** The body the platform pushes (`DeliveryService.push`). */
export interface PushMessage {
  readonly messageId: string;
  readonly datasetId: string;
  readonly batchId?: string;
  readonly providerSystem?: string;
  readonly attempt?: number;
  readonly records: readonly DeliveredRecord[];
}

/** What the node answers the platform. */
export interface PushAnswer {
  readonly status: 200 | 400 | 503;
  readonly body:
    | ({ readonly messageId: string } & ApplyResult)
    | { readonly error: string; readonly messageId?: string };
}

/** Most record versions one push may carry (the platform's chunks hold far fewer). */
const MAX_RECORDS = 5000;

/**
 * Applies a verified push to the store of the subscription it was pushed to (`datasetId` is that
 * subscription's dataset). Never throws: every outcome is an answer.
 */
export async function applyPush(
  subscription: { readonly datasetId: string; readonly store: DeliveryStore },
  body: unknown,
): Promise<PushAnswer> {
  const message = body as Partial<PushMessage> | null;
  const messageId = typeof message?.messageId === "string" ? message.messageId : undefined;
  const refuse = (error: string): PushAnswer => ({ status: 400, body: { error, ...(messageId ? { messageId } : {}) } });
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return refuse("the push is not a JSON object");
  }
  if (!messageId) return refuse("messageId: must be a string");
  if (message.datasetId !== subscription.datasetId) {
    return refuse(
      `datasetId: this path takes deliveries of ${subscription.datasetId}, not ${String(message.datasetId)}`,
    );
  }
  if (!Array.isArray(message.records) || message.records.length > MAX_RECORDS) {
    return refuse(`records: must be an array of at most ${MAX_RECORDS} record versions`);
  }
  try {
    const result = await subscription.store.apply(message.records);
    return { status: 200, body: { messageId, ...result } };
  } catch (error) {
    if (error instanceof InvalidDeliveryError) return refuse(error.message);
    // Nothing was committed: the platform delivers the push again.
    return { status: 503, body: { error: `not applied, try again: ${(error as Error).message}`, messageId } };
  }
}
