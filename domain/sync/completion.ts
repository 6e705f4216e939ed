import { holdLease } from "./lease.ts";
import {
  type Batch,
  type BatchFinished,
  type BatchStore,
  batchKeyOf,
  type FanOut,
  type IntegratedStore,
} from "./model.ts";

/**
 * The end of a batch: completed once every part is applied (a full sync then deletes what it did
 * not carry), or failed when the upload state machine gives up on it. Either way the dataset's
 * lease is given up and the batch's figures published.
 */
export class Completion {
  constructor(
    private readonly deps: {
      readonly batches: Pick<BatchStore, "finish" | "transition" | "get">;
      readonly integrated: Pick<IntegratedStore, "lease" | "release" | "tombstoneUnseen">;
      /** Hands the deletions of a full sync to the dataset's subscribers (7.2b). */
      readonly fanOut?: FanOut;
      readonly onFinished?: BatchFinished;
      /** How long a full sync waits for another batch of its dataset to finish. */
      readonly leaseWaitMs?: number;
      readonly now?: () => Date;
    },
  ) {}

  /** Completes a batch; a full sync without rejections deletes what it did not carry. */
  async complete(batch: Batch): Promise<Batch> {
    const at = this.now().toISOString();
    // A rejected record of a full sync would otherwise be deleted: then nothing is tombstoned.
    const fanOut = this.deps.fanOut;
    const tombstoning = batch.mode === "full" && batch.rejected === 0;
    if (tombstoning) await holdLease(this.deps.integrated, batch, this.deps.leaseWaitMs);
    const tombstoned = tombstoning
      ? await this.deps.integrated.tombstoneUnseen(
          batch.datasetId,
          { batchId: batch.batchId, ...(batch.sequence ? { sequence: batch.sequence } : {}) },
          at,
          fanOut ? (page, deleted) => fanOut(batch, `t${page}`, deleted).then(() => undefined) : undefined,
        )
      : 0;
    await this.deps.batches.finish(batchKeyOf(batch), { tombstoned, completedAt: at });
    await this.deps.integrated.release(batch.datasetId, batch.batchId);
    const completed: Batch = { ...batch, state: "completed", tombstoned, completedAt: at };
    this.deps.onFinished?.(completed);
    return completed;
  }

  /** The state machine could not process the batch (named by its key): it is marked failed, with the reason. */
  async fail(key: string, reason: string): Promise<void> {
    await this.deps.batches.transition(key, "processing", {
      state: "failed",
      failure: reason.slice(0, 1000),
      completedAt: this.now().toISOString(),
    });
    const batch = await this.deps.batches.get(key);
    if (batch) {
      this.deps.onFinished?.(batch);
      await this.deps.integrated.release(batch.datasetId, batch.batchId);
    }
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}
