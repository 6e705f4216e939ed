import type { InboxMessage } from "../../domain/delivery/model.ts";
import { type DeliveryStore, InvalidDeliveryError } from "./store.ts";

/*
 * The other way a consumer's node takes deliveries (Art. 7.2b): it reads its inbox on the
 * platform, applies each message into its subscription's store and only then acknowledges it. A
 * crash between the two leaves the message in the inbox; read again, its record versions are
 * duplicates by idempotency key and change nothing.
 */

/** The platform's inbox routes as the node calls them (`DscpClient` has this shape). */
export interface InboxSource {
  readInbox(query: {
    datasetId?: string;
    limit?: number;
    cursor?: string;
  }): Promise<{ readonly items: readonly InboxMessage[]; readonly nextCursor?: string }>;
  acknowledge(receipts: readonly string[]): Promise<unknown>;
}

export interface InboxResult {
  /** Messages applied (or applied before) and acknowledged. */
  readonly messages: number;
  readonly applied: number;
  readonly duplicates: number;
  readonly stale: number;
  /** Messages of a dataset this node applies no subscription of: left in the inbox. */
  readonly skipped: number;
  /** Messages whose records are not record versions: left in the inbox for the operator to see. */
  readonly invalid: number;
}

/** The platform acknowledges at most this many receipts per call. */
const ACK_CHUNK = 100;
const PAGE = 100;

/**
 * Reads the inbox a page at a time (at most `maxPages`), applies every message to the store of
 * its dataset and acknowledges those applied. When a store fails, the messages applied before it
 * are acknowledged and the failure is thrown: the rest stay in the inbox for the next run.
 */
export async function drainInbox(
  source: InboxSource,
  storeFor: (datasetId: string) => DeliveryStore | undefined,
  options: { readonly datasetId?: string; readonly maxPages?: number } = {},
): Promise<InboxResult> {
  const totals = { messages: 0, applied: 0, duplicates: 0, stale: 0, skipped: 0, invalid: 0 };
  let cursor: string | undefined;
  for (let page = 0; page < (options.maxPages ?? 10); page++) {
    const { items, nextCursor } = await source.readInbox({
      limit: PAGE,
      ...(options.datasetId ? { datasetId: options.datasetId } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const receipts: string[] = [];
    try {
      for (const message of items) {
        const store = storeFor(message.datasetId);
        if (!store) {
          totals.skipped++;
          continue;
        }
        try {
          const result = await store.apply(message.records);
          totals.applied += result.applied;
          totals.duplicates += result.duplicates;
          totals.stale += result.stale;
          receipts.push(message.receipt);
        } catch (error) {
          if (!(error instanceof InvalidDeliveryError)) throw error;
          totals.invalid++;
        }
      }
    } finally {
      for (let start = 0; start < receipts.length; start += ACK_CHUNK) {
        await source.acknowledge(receipts.slice(start, start + ACK_CHUNK));
      }
      totals.messages += receipts.length;
    }
    if (!nextCursor) break;
    cursor = nextCursor;
  }
  return totals;
}
