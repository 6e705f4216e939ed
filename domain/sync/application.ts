import type { CatalogStore } from "../catalog/model.ts";
import type { RecordChange } from "../delivery/model.ts";
import type { Completion } from "./completion.ts";
import { DatasetBusyError, holdLease } from "./lease.ts";
import {
  type BatchStore,
  type Chunk,
  type ChunkQueue,
  chunkBatchKey,
  type FanOut,
  type IntegratedStore,
  type Partition,
} from "./model.ts";
import type { ObjectStore } from "./objects.ts";
import type { ValidOperation } from "./operations.ts";

/** Operations read ahead and applied together (one read of their records, then their writes). */
const APPLY_WINDOW = 500;
/** A chunk whose dataset is busy with another batch is queued again this much later. */
const CHUNK_DEFER_SECONDS = 10;

/** What applying any part of a batch needs. */
export interface ApplicationPorts {
  readonly catalog: Pick<CatalogStore, "getDataset">;
  readonly batches: Pick<BatchStore, "get" | "completeChunk">;
  readonly integrated: Pick<IntegratedStore, "applyWindow" | "lease" | "release">;
  /** Finishes the batch once its last part is applied. */
  readonly completion: Pick<Completion, "complete">;
  /** Hands the changes each part of a batch made to the dataset's subscribers (7.2b). */
  readonly fanOut?: FanOut;
  /** How long a part of a batch waits for another batch of its dataset to finish. */
  readonly leaseWaitMs?: number;
  readonly now?: () => Date;
}

/** The part of a batch being applied: a chunk of an inline batch, or a partition of an uploaded one. */
type Part = Pick<Chunk, "batchId" | "providerSystem" | "datasetId" | "chunk" | "mode">;

/**
 * Applies the chunks of inline batches (the chunk worker's job). Each operation is applied once
 * per batch and index, so a chunk delivered twice changes nothing the second time; the last chunk
 * finishes the batch.
 */
export class ChunkApplication {
  constructor(private readonly deps: ApplicationPorts & { readonly queue: ChunkQueue }) {}

  async applyChunk(chunk: Chunk): Promise<"applied" | "deferred"> {
    try {
      await applyPart(this.deps, chunk, chunk.operations);
      return "applied";
    } catch (error) {
      if (!(error instanceof DatasetBusyError)) throw error;
      // Another batch of the dataset is being applied: this chunk comes back in a while.
      await this.deps.queue([chunk], CHUNK_DEFER_SECONDS);
      return "deferred";
    }
  }
}

/** Applies the partitions of uploaded batches, each streamed from storage (a state machine's task). */
export class PartitionApplication {
  constructor(private readonly deps: ApplicationPorts & { readonly objects: Pick<ObjectStore, "lines"> }) {}

  async applyPartition(partition: Partition): Promise<{ chunk: number }> {
    const objects = this.deps.objects;
    async function* operations() {
      for await (const line of objects.lines(partition.key)) {
        if (line) yield JSON.parse(line) as ValidOperation;
      }
    }
    await applyPart(this.deps, partition, operations());
    return { chunk: partition.chunk };
  }
}

/**
 * Applies a part's operations a window at a time under the dataset's lease: the store reads the
 * window's records at once and writes each changed one, those on one key in order, so the later
 * one wins. The part is then counted done once; the last one finishes the batch.
 */
async function applyPart(
  deps: ApplicationPorts,
  part: Part,
  operations: Iterable<ValidOperation> | AsyncIterable<ValidOperation>,
): Promise<void> {
  const key = chunkBatchKey(part);
  const batch = await deps.batches.get(key);
  if (batch?.state !== "processing") {
    // A part delivered again after its batch finished: nothing to apply, and no lease to take
    // (one taken and kept would hold the dataset's next batch up until it lapsed).
    await deps.integrated.release(part.datasetId, part.batchId);
    return;
  }
  const at = (deps.now ?? (() => new Date()))().toISOString();
  let applied = 0;
  let unchanged = 0;
  let superseded = 0;
  let windows = 0;
  const provider = deps.fanOut ? await deps.catalog.getDataset(part.datasetId) : undefined;
  const applyWindow = async (window: ValidOperation[]) => {
    await holdLease(deps.integrated, part, deps.leaseWaitMs);
    const results = await deps.integrated.applyWindow(
      window.map(({ index, key, operation }) => ({
        datasetId: part.datasetId,
        key,
        operation,
        batchId: part.batchId,
        index,
        ...(batch.sequence ? { sequence: batch.sequence } : {}),
        fullSync: part.mode === "full",
        at,
      })),
      true,
    );
    const changes: RecordChange[] = [];
    for (const { outcome, change } of results) {
      applied++;
      if (outcome === "unchanged") unchanged++;
      if (outcome === "superseded") superseded++;
      if (change) changes.push(change);
    }
    // Delivered before the part counts as done: a crash before this applies the part again,
    // which makes the same messages again.
    if (deps.fanOut && provider) {
      await deps.fanOut(
        { ...part, providerSystem: provider.providerSystem, providerAgency: provider.managingAgency },
        `c${part.chunk}w${windows}`,
        changes,
      );
    }
    windows++;
  };
  let window: ValidOperation[] = [];
  for await (const entry of operations) {
    window.push(entry);
    if (window.length >= APPLY_WINDOW) {
      await applyWindow(window);
      window = [];
    }
  }
  await applyWindow(window);
  const after =
    (await deps.batches.completeChunk(key, part.chunk, { applied, unchanged, superseded })) ??
    // Counted before: a worker that finished the batch's last part may have died finishing the batch.
    (await deps.batches.get(key));
  if (after && after.state === "processing" && after.chunksDone === after.chunks) await deps.completion.complete(after);
  // The batch finished while this part was applied again: the lease it took is given up.
  else if (after?.state !== "processing") await deps.integrated.release(part.datasetId, part.batchId);
}
