import type { IntegratedStore } from "./model.ts";

/*
 * The batches of one dataset are applied one at a time under its lease, so a batch's writes need
 * no condition and none is lost to another's.
 */

/**
 * How long a batch holds its dataset's lease past its last window: a worker that dies lets the
 * next batch in after this. Each window (a few hundred operations, well under a minute) renews it.
 */
const LEASE_MS = 120_000;
/** How long a part of a batch waits for another batch of its dataset, unless told otherwise. */
export const DEFAULT_LEASE_WAIT_MS = 20_000;

/** Another batch of the dataset holds its lease: the part is tried again later (not a failure). */
export class DatasetBusyError extends Error {
  override readonly name = "DatasetBusy";
}

/**
 * Takes (or renews) the dataset's lease for the batch. Waits up to `waitMs` for another batch to
 * finish, then throws {@link DatasetBusyError}.
 */
export async function holdLease(
  integrated: Pick<IntegratedStore, "lease">,
  part: { readonly batchId: string; readonly datasetId: string },
  waitMs = DEFAULT_LEASE_WAIT_MS,
): Promise<void> {
  const waitUntil = Date.now() + waitMs;
  for (;;) {
    if (await integrated.lease(part.datasetId, part.batchId, LEASE_MS)) return;
    if (Date.now() >= waitUntil) {
      throw new DatasetBusyError(`another batch of ${part.datasetId} is being applied; ${part.batchId} waits`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
