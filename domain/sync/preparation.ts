import { createHash } from "node:crypto";
import type { CatalogStore } from "../catalog/model.ts";
import type { SchemaVersion } from "../dictionary/model.ts";
import type { RecordValidator } from "../dictionary/validator.ts";
import { NotFoundError } from "../problem.ts";
import { jsonDepthWithin, MAX_JSON_DEPTH } from "../validation.ts";
import type { Completion } from "./completion.ts";
import { type BatchStore, MAX_REJECTIONS_KEPT, type Partition, type Rejection, SyncRefusedError } from "./model.ts";
import { type LineSink, type ObjectStore, objectKeys } from "./objects.ts";
import { judge } from "./operations.ts";

/** Operations per partition of an uploaded batch, about: what one state machine task applies. */
const PARTITION_OPERATIONS = 2000;
/** The most partitions of one batch. */
const MAX_PARTITIONS = 500;
/** Lines read to estimate how many a file holds. */
const SAMPLED_LINES = 1000;

/**
 * Prepares an uploaded batch (the upload state machine's first task): streams the file once,
 * validating each operation and writing the valid ones to partitions by key (so operations on
 * one key stay in order), the rejections to a report. Memory holds one line at a time, whatever
 * the file's size.
 */
export class Preparation {
  constructor(
    private readonly deps: {
      readonly catalog: Pick<CatalogStore, "getDataset">;
      readonly schemas: (id: string, version: string) => Promise<SchemaVersion | undefined>;
      readonly validator: RecordValidator;
      readonly batches: Pick<BatchStore, "get" | "transition">;
      readonly objects: Pick<ObjectStore, "lines" | "size" | "stage">;
      /** Finishes a batch with nothing to apply. */
      readonly completion: Pick<Completion, "complete">;
    },
  ) {}

  /** Prepares the uploaded batch `key` names ({@link batchKey}): its partitions, for the state machine to apply. */
  async prepare(key: string): Promise<{ partitions: Partition[] }> {
    const batch = await this.deps.batches.get(key);
    if (!batch?.upload) throw new NotFoundError(`no uploaded batch ${key}`);
    const { batchId, providerSystem } = batch;
    const objects = this.deps.objects;
    const schema = await this.deps.schemas(batch.schema.id, batch.schema.version);
    const dataset = await this.deps.catalog.getDataset(batch.datasetId);
    if (!schema || !dataset) throw new SyncRefusedError("no-schema", `${batch.datasetId} or its schema is gone`);
    const count = await this.partitionCount(batch.upload.key);
    const sinks: LineSink[] = [];
    try {
      const files: Array<{ sink: LineSink; lines: number; key: string }> = [];
      for (let index = 0; index < count; index++) {
        const part = objectKeys.partition(batch.datasetId, batchId, index);
        const sink = await objects.stage(part);
        sinks.push(sink);
        files.push({ sink, lines: 0, key: part });
      }
      const reportKey = objectKeys.rejectionReport(batch.datasetId, batchId);
      const report = await objects.stage(reportKey);
      sinks.push(report);
      const check = this.deps.validator.check(schema.jsonSchema);
      const digest = createHash("sha256");
      const rejections: Rejection[] = [];
      let received = 0;
      let rejected = 0;
      for await (const read of objects.lines(batch.upload.key)) {
        digest.update(`${read}\n`);
        // A byte order mark opening the file (as some editors save UTF-8) is not part of its first line's JSON.
        const line = received === 0 ? read.replace(/^\uFEFF/, "") : read;
        if (!line.trim()) continue;
        const index = received++;
        let raw: unknown;
        // Too deep to validate or hash safely: refused like a line that is not JSON.
        const shallow = jsonDepthWithin(line);
        try {
          raw = shallow ? JSON.parse(line) : undefined;
        } catch {
          raw = undefined;
        }
        const verdict =
          raw === undefined
            ? {
                errors: [
                  shallow
                    ? { path: "(line)", rule: "json", message: "is not valid JSON" }
                    : { path: "(line)", rule: "depth", message: `nests deeper than ${MAX_JSON_DEPTH} levels` },
                ],
              }
            : judge(raw, check, dataset.keyFields);
        if (!("operation" in verdict)) {
          rejected++;
          const rejection: Rejection = {
            index,
            ...("key" in verdict && verdict.key ? { key: verdict.key } : {}),
            errors: verdict.errors,
          };
          if (rejections.length < MAX_REJECTIONS_KEPT) rejections.push(rejection);
          await report.write(JSON.stringify(rejection));
          continue;
        }
        const file = files[partitionOf(verdict.key, count)] as (typeof files)[number];
        file.lines++;
        await file.sink.write(JSON.stringify({ index, key: verdict.key, operation: verdict.operation }));
      }
      const rejectionReport = rejected > MAX_REJECTIONS_KEPT ? reportKey : undefined;
      if (rejectionReport) await report.commit();
      const partitions: Partition[] = [];
      for (const file of files.filter(({ lines }) => lines > 0)) {
        await file.sink.commit();
        partitions.push({
          batchId,
          providerSystem,
          datasetId: batch.datasetId,
          mode: batch.mode,
          chunk: partitions.length,
          key: file.key,
        });
      }
      await this.deps.batches.transition(key, "processing", {
        digest: digest.digest("hex"),
        received,
        rejected,
        rejections,
        chunks: partitions.length,
        ...(rejectionReport ? { rejectionReport } : {}),
      });
      if (partitions.length === 0) await this.deps.completion.complete({ ...batch, received, rejected, chunks: 0 });
      return { partitions };
    } finally {
      // What was staged and not committed is dropped, as is the local copy of what was.
      await Promise.all(sinks.map((sink) => sink.discard()));
    }
  }

  /**
   * Partitions of about 2,000 operations, the count estimated from the file's size and its first
   * lines (a second pass over the file would cost as much as validating it).
   */
  private async partitionCount(upload: string): Promise<number> {
    const objects = this.deps.objects;
    let sampled = 0;
    let sampledBytes = 0;
    for await (const line of objects.lines(upload)) {
      sampledBytes += Buffer.byteLength(line) + 1;
      if (++sampled >= SAMPLED_LINES) break;
    }
    const size = (await objects.size(upload)) ?? sampledBytes;
    const lines = sampled === 0 ? 0 : Math.ceil(size / (sampledBytes / sampled));
    return Math.min(MAX_PARTITIONS, Math.max(1, Math.ceil(lines / PARTITION_OPERATIONS)));
  }
}

/** The partition of a key: stable, so every operation on one key lands in the same one, in order. */
function partitionOf(key: string, partitions: number): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0) % partitions;
}
