import type { DeliveryCounts } from "../delivery/model.ts";
import { isOverseer } from "../identity/authorization.ts";
import { NotFoundError } from "../problem.ts";
import type { Caller } from "../registry/model.ts";
import { type Batch, type BatchStore, batchKey } from "./model.ts";
import type { ObjectStore } from "./objects.ts";

/** How long a link to a rejection report works. */
const REPORT_URL_SECONDS = 900;

/** A batch as its provider follows it: counts, what is pending, its deliveries. */
export type BatchStatus = Omit<Batch, "deliveries"> & {
  pending: number;
  deliveries: DeliveryCounts;
  rejectionReportUrl?: string;
};

/**
 * Batches as they stand, to those who may read them: their provider's agency, the supervisor and
 * the operator. Batch ids are their provider's: `provider` names it (by default the caller).
 */
export class BatchReader {
  constructor(
    private readonly deps: {
      readonly batches: Pick<BatchStore, "get">;
      readonly objects: Pick<ObjectStore, "presignGet">;
    },
  ) {}

  /** A batch as it stands, with a link to its rejection report if it has one. */
  async status(caller: Caller, batchId: string, provider?: string): Promise<BatchStatus> {
    const batch = await this.readableBatch(caller, batchId, provider);
    const { expected, delivered, failed, refused } = batch.deliveries;
    const report = batch.rejectionReport
      ? await this.deps.objects.presignGet(batch.rejectionReport, REPORT_URL_SECONDS)
      : undefined;
    return {
      ...batch,
      ...(report ? { rejectionReportUrl: report } : {}),
      pending: batch.received - batch.rejected - batch.collapsed - batch.applied,
      deliveries: { ...batch.deliveries, pending: expected - delivered - failed - refused },
    };
  }

  /** The batch `batchId` of `provider` (by default the caller), if the caller may read it. */
  async readableBatch(caller: Caller, batchId: string, provider = caller.systemId): Promise<Batch> {
    return readable(caller, batchId, provider, await this.deps.batches.get(batchKey(provider, batchId)));
  }
}

/**
 * The batch, if it exists and the caller may read it: its provider's agency, the supervisor, the
 * operator. To anyone else it is as absent as a batch that does not exist.
 */
export function readable(caller: Caller, batchId: string, provider: string, batch: Batch | undefined): Batch {
  if (!batch || (!isOverseer(caller) && caller.agencyCode !== batch.providerAgency)) {
    throw new NotFoundError(`${provider} has no batch ${batchId} you may read`);
  }
  return batch;
}
