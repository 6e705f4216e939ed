import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { groupsOf } from "../batching.ts";
import { canonicalJson } from "../canonical-json.ts";
import { type CatalogStore, type Dataset, dataKeyOf } from "../catalog/model.ts";
import type { DeliveryCounts, RecordChange } from "../delivery/model.ts";
import type { SchemaVersion } from "../dictionary/model.ts";
import type { RecordCheck, RecordValidator } from "../dictionary/validator.ts";
import type { ExchangeLog } from "../exchange/model.ts";
import { isKeyText, MAX_RECORD_KEY_BYTES, unstoredNumbers } from "../identifiers.ts";
import { isAdmin, isOverseer } from "../identity/authorization.ts";
import { ConflictError, ForbiddenError } from "../identity/errors.ts";
import { DependencyUnavailableError, NotFoundError, ProblemError, problemTypeUri } from "../problem.ts";
import type { Caller } from "../registry/model.ts";
import { jsonDepthWithin, MAX_JSON_DEPTH, nestedPrototypeKeys, parseInput } from "../validation.ts";
import {
  type Batch,
  type BatchStore,
  batchInput,
  batchKey,
  type Chunk,
  type ChunkQueue,
  completionInput,
  type IntegratedStore,
  type ObjectStore,
  type Operation,
  operationSchema,
  type Partition,
  type Rejection,
  type UploadPipeline,
  uploadInput,
} from "./model.ts";

/** Delivers changes to subscribers: `source` names the part of the batch they come from. */
export type FanOut = (
  batch: Pick<Batch, "batchId" | "datasetId" | "providerSystem" | "providerAgency">,
  source: string,
  changes: readonly RecordChange[],
) => Promise<unknown>;

/** The National Integrated Database, as the receiving party of batches in the exchange log. */
export const INTEGRATED_DATABASE = { system: "NDC.INTEGRATED", agency: "NDC" } as const;

/** At most this many operations, and about this many bytes, per chunk a worker applies. */
const CHUNK_OPERATIONS = 100;
const CHUNK_BYTES = 180_000;
/** Operations read ahead and applied together (one read of their records, then their writes). */
const APPLY_WINDOW = 500;
/** Operations per partition of an uploaded batch, about: what one state machine task applies. */
const PARTITION_OPERATIONS = 2000;
/**
 * How long a batch holds its dataset's lease past its last window: a worker that dies lets the
 * next batch in after this. Each window (a few hundred operations, well under a minute) renews it.
 */
const LEASE_MS = 120_000;
/** A chunk whose dataset is busy with another batch is queued again this much later. */
const CHUNK_DEFER_SECONDS = 10;
/**
 * A batch recorded this long ago whose chunks are still not queued was left so by a request
 * that ended (the API function times out after 28 s): sending it again queues them.
 */
const UNQUEUED_AFTER_MS = 30_000;

/** Another batch of the dataset holds its lease: the part is tried again later (not a failure). */
export class DatasetBusyError extends Error {
  override readonly name = "DatasetBusy";
}

/** Rejections listed on the batch; beyond them, every rejection is in the batch's report file. */
const MAX_REJECTIONS_KEPT = 200;
/** How long a link to a rejection report works. */
const REPORT_URL_SECONDS = 900;

/** The dataset cannot take sync batches as it is. */
export class SyncRefusedError extends ProblemError {
  constructor(slug: string, detail: string) {
    super(422, `sync:${slug}`, "The dataset cannot take this batch", detail);
  }
}

/**
 * Sync batches into the National Integrated Database (Art. 7.2c): validated against the
 * dataset's schema version when submitted, valid operations queued in chunks and applied by
 * workers exactly once each, invalid ones reported by index, path and rule.
 */
export class SyncService {
  constructor(
    private readonly deps: {
      readonly catalog: Pick<CatalogStore, "getDataset">;
      readonly schemas: (id: string, version: string) => Promise<SchemaVersion | undefined>;
      readonly validator: RecordValidator;
      readonly batches: BatchStore;
      readonly integrated: IntegratedStore;
      readonly queue: ChunkQueue;
      /** The exchange log (Art. 13): one entry per batch submitted, taken or refused. */
      readonly log: ExchangeLog;
      /** Uploaded batch files and their partitions; the state machine that processes them. */
      readonly objects?: ObjectStore;
      readonly pipeline?: UploadPipeline;
      /** A folder for partition files while an upload is prepared. */
      readonly scratch?: string;
      /** Hands the changes each part of a batch made to the dataset's subscribers (7.2b). */
      readonly fanOut?: FanOut;
      /** Told of every batch that completes or fails: the per-batch metrics. */
      readonly onFinished?: (batch: Batch) => void;
      /** How long a part of a batch waits for another batch of its dataset to finish. @default 20 s */
      readonly leaseWaitMs?: number;
      readonly now?: () => Date;
    },
  ) {}

  /**
   * Takes a batch: the same batch id again returns the batch as it stands and changes nothing.
   * Every submission, taken or refused, is one entry in the exchange log.
   */
  async submit(
    caller: Caller,
    datasetId: string,
    input: unknown,
    transactionId: string,
    bytes = 0,
  ): Promise<{ batch: Batch; replayed: boolean }> {
    return this.logged(caller, datasetId, transactionId, bytes, async (found) => {
      const result = await this.take(caller, datasetId, input, transactionId, found);
      return { result, status: result.replayed ? 200 : 202, batch: result.batch };
    });
  }

  /** Runs a batch submission and writes its one exchange-log entry, taken or refused. */
  private async logged<T>(
    caller: Caller,
    datasetId: string,
    transactionId: string,
    bytes: number,
    work: (found: (dataset: Dataset) => void) => Promise<{ result: T; status: number; batch: Batch }>,
  ): Promise<T> {
    const started = Date.now();
    let dataset: Dataset | undefined;
    let outcome: { status: number; batch?: Batch; problemType?: string } = { status: 500 };
    try {
      const { result, status, batch } = await work((found) => {
        dataset = found;
      });
      outcome = { status, batch };
      return result;
    } catch (error) {
      outcome = {
        status: error instanceof ProblemError ? error.status : 500,
        problemType: problemTypeUri(error instanceof ProblemError ? error.slug : "internal-error"),
      };
      throw error;
    } finally {
      const { status, batch, problemType } = outcome;
      await this.deps.log({
        transactionId,
        time: new Date(started).toISOString(),
        consumerSystem: INTEGRATED_DATABASE.system,
        consumerAgency: INTEGRATED_DATABASE.agency,
        submittedBy: caller.systemId,
        datasetId,
        ...(dataset ? { providerSystem: dataset.providerSystem, providerAgency: dataset.managingAgency } : {}),
        operation: "sync-batch",
        method: "integrated",
        ...(batch ? { batchId: batch.batchId } : {}),
        fieldsReturned: [],
        recordCount: batch ? batch.received - batch.rejected - batch.collapsed : 0,
        ...(batch && batch.rejected > 0 ? { invalidRecords: batch.rejected } : {}),
        outcome: status >= 500 ? "failed" : status < 300 ? "allowed" : "denied",
        status,
        ...(problemType ? { problemType } : {}),
        latencyMs: Date.now() - started,
        bytes,
        crossBorder: false,
      });
    }
  }

  private async take(
    caller: Caller,
    datasetId: string,
    input: unknown,
    transactionId: string,
    found: (dataset: Dataset) => void,
  ): Promise<{ batch: Batch; replayed: boolean }> {
    const parsed = parseInput(batchInput, input, "batch");
    const dataset = await this.deps.catalog.getDataset(datasetId);
    if (!dataset) throw new NotFoundError(`no dataset ${datasetId} in the catalog`);
    found(dataset);
    await this.providedDataset(caller, datasetId, dataset);
    const schema = await this.schemaOf(dataset);
    const digest = createHash("sha256")
      .update(canonicalJson({ datasetId, mode: parsed.mode, operations: parsed.operations }))
      .digest("hex");
    const existing = await this.deps.batches.get(batchKey(dataset.providerSystem, parsed.batchId));
    const { valid, rejections, rejected, collapsed } = this.validate(parsed.operations, schema, dataset.keyFields);
    const chunks = groupsOf(valid, CHUNK_OPERATIONS, CHUNK_BYTES).map(
      (operations, chunk): Chunk => ({
        batchId: parsed.batchId,
        providerSystem: dataset.providerSystem,
        datasetId,
        chunk,
        mode: parsed.mode,
        operations,
      }),
    );
    if (existing) return this.resubmitted(existing, digest, chunks);

    const report =
      rejections.length > MAX_REJECTIONS_KEPT
        ? await this.writeReport(
            datasetId,
            parsed.batchId,
            rejections.map((rejection) => JSON.stringify(rejection)),
          )
        : undefined;
    const batch: Batch = {
      ...this.newBatch(parsed, dataset, schema, transactionId),
      digest,
      state: "processing",
      received: parsed.operations.length,
      rejected,
      collapsed,
      chunks: chunks.length,
      rejections: rejections.slice(0, MAX_REJECTIONS_KEPT),
      ...(report ? { rejectionReport: report } : {}),
      // Its place among the dataset's batches: what it writes, no earlier batch overwrites.
      sequence: await this.deps.batches.nextSequence(datasetId),
      queued: chunks.length === 0,
    };
    const raced = await this.deps.batches.create(batch);
    if (raced) return this.resubmitted(raced, digest, chunks);
    if (chunks.length === 0) return { batch: await this.finalize(batch), replayed: false };
    return { batch: await this.enqueue(batch, chunks), replayed: false };
  }

  /** Queues a recorded batch's chunks, then notes that they are queued. */
  private async enqueue(batch: Batch, chunks: readonly Chunk[]): Promise<Batch> {
    await this.deps.queue(chunks);
    await this.deps.batches.transition(keyOf(batch), "processing", { queued: true });
    return { ...batch, queued: true };
  }

  /**
   * A batch as it stands: its provider's agency, the supervisor and the operator read it. Batch
   * ids are their provider's: `provider` names it (by default the caller).
   */
  async status(
    caller: Caller,
    batchId: string,
    provider?: string,
  ): Promise<Omit<Batch, "deliveries"> & { pending: number; deliveries: DeliveryCounts; rejectionReportUrl?: string }> {
    const batch = await this.readableBatch(caller, batchId, provider);
    const { expected, delivered, failed, refused } = batch.deliveries;
    const report = batch.rejectionReport
      ? await this.objects().presignGet(batch.rejectionReport, REPORT_URL_SECONDS)
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

  /**
   * Applies one chunk (a worker's job). Each operation is applied once per batch and index, so
   * a chunk delivered twice changes nothing the second time; the last chunk finishes the batch.
   */
  async applyChunk(chunk: Chunk): Promise<"applied" | "deferred"> {
    try {
      await this.applyAll(chunk, chunk.operations);
      return "applied";
    } catch (error) {
      if (!(error instanceof DatasetBusyError)) throw error;
      // Another batch of the dataset is being applied: this chunk comes back in a while.
      await this.deps.queue([chunk], CHUNK_DEFER_SECONDS);
      return "deferred";
    }
  }

  /** Applies one partition of an uploaded batch, streamed from storage (a state machine's task). */
  async applyPartition(partition: Partition): Promise<{ chunk: number }> {
    const objects = this.objects();
    async function* operations() {
      for await (const line of objects.lines(partition.key)) {
        if (line) yield JSON.parse(line) as Chunk["operations"][number];
      }
    }
    await this.applyAll(partition, operations());
    return { chunk: partition.chunk };
  }

  /**
   * Applies operations a window at a time: the store reads the window's records at once and
   * writes each changed one, those on one key in order, so the later one wins.
   */
  private async applyAll(
    chunk: Pick<Chunk, "batchId" | "providerSystem" | "datasetId" | "chunk" | "mode">,
    operations: Iterable<Chunk["operations"][number]> | AsyncIterable<Chunk["operations"][number]>,
  ): Promise<void> {
    const key = chunkKey(chunk);
    const batch = await this.deps.batches.get(key);
    if (batch?.state !== "processing") {
      // A part delivered again after its batch finished: nothing to apply, and no lease to take
      // (one taken and kept would hold the dataset's next batch up until it lapsed).
      await this.deps.integrated.release(chunk.datasetId, chunk.batchId);
      return;
    }
    const at = this.now().toISOString();
    let applied = 0;
    let unchanged = 0;
    let superseded = 0;
    let windows = 0;
    const provider = this.deps.fanOut ? await this.deps.catalog.getDataset(chunk.datasetId) : undefined;
    const applyWindow = async (window: Chunk["operations"][number][]) => {
      await this.holdLease(chunk);
      const results = await this.deps.integrated.applyWindow(
        window.map(({ index, key, operation }) => ({
          datasetId: chunk.datasetId,
          key,
          operation,
          batchId: chunk.batchId,
          index,
          ...(batch.sequence ? { sequence: batch.sequence } : {}),
          fullSync: chunk.mode === "full",
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
      // Delivered before the chunk counts as done: a crash before this applies the chunk again,
      // which makes the same messages again.
      if (this.deps.fanOut && provider) {
        await this.deps.fanOut(
          { ...chunk, providerSystem: provider.providerSystem, providerAgency: provider.managingAgency },
          `c${chunk.chunk}w${windows}`,
          changes,
        );
      }
      windows++;
    };
    let window: Chunk["operations"][number][] = [];
    for await (const entry of operations) {
      window.push(entry);
      if (window.length >= APPLY_WINDOW) {
        await applyWindow(window);
        window = [];
      }
    }
    await applyWindow(window);
    const after =
      (await this.deps.batches.completeChunk(key, chunk.chunk, { applied, unchanged, superseded })) ??
      // Counted before: a worker that finished the batch's last chunk may have died finishing the batch.
      (await this.deps.batches.get(key));
    if (after && after.state === "processing" && after.chunksDone === after.chunks) await this.finalize(after);
    // The batch finished while this part was applied again: the lease it took is given up.
    else if (after?.state !== "processing") await this.deps.integrated.release(chunk.datasetId, chunk.batchId);
  }

  /**
   * Takes (or renews) the dataset's lease for the batch: the batches of one dataset are applied
   * one at a time, so a batch's writes need no condition and none is lost to another's. Waits up
   * to `leaseWaitMs` for another batch to finish, then throws {@link DatasetBusyError}.
   */
  private async holdLease(chunk: Pick<Chunk, "batchId" | "datasetId">): Promise<void> {
    const waitUntil = Date.now() + (this.deps.leaseWaitMs ?? 20_000);
    for (;;) {
      if (await this.deps.integrated.lease(chunk.datasetId, chunk.batchId, LEASE_MS)) return;
      if (Date.now() >= waitUntil) {
        throw new DatasetBusyError(`another batch of ${chunk.datasetId} is being applied; ${chunk.batchId} waits`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /**
   * Opens an upload for a large batch: the batch is recorded, awaiting its file, and the
   * provider gets a URL to PUT the NDJSON file to (one operation per line), valid 15 minutes.
   */
  async startUpload(
    caller: Caller,
    datasetId: string,
    input: unknown,
    transactionId: string,
  ): Promise<{
    batch: Batch;
    upload?: {
      method: "PUT";
      expiresAt: string;
      url?: string;
      parts?: Array<{ partNumber: number; url: string }>;
    };
  }> {
    const parsed = parseInput(uploadInput, input, "upload");
    const dataset = await this.providedDataset(caller, datasetId);
    const schema = await this.schemaOf(dataset);
    const key = `uploads/${datasetId}/${parsed.batchId}.ndjson`;
    const expiresIn = 3600;
    const known = await this.deps.batches.get(batchKey(dataset.providerSystem, parsed.batchId));
    const uploadId = parsed.parts && !known ? await this.objects().startParts(key) : undefined;
    const batch: Batch = {
      ...this.newBatch(parsed, dataset, schema, transactionId),
      state: "awaiting-upload",
      upload: { key, ...(uploadId ? { uploadId } : {}) },
    };
    const existing = known ?? (await this.deps.batches.create(batch));
    if (existing && (existing.datasetId !== datasetId || !existing.upload)) {
      throw new ConflictError(`batch ${parsed.batchId} exists already for other content; a batch id names one batch`);
    }
    // The same upload asked for again: the batch as it stands, and URLs only while it awaits its file.
    const current = existing ?? batch;
    if (current.state !== "awaiting-upload") return { batch: current };
    const expiresAt = new Date(this.now().getTime() + expiresIn * 1000).toISOString();
    if (current.upload?.uploadId) {
      if (!parsed.parts) {
        throw new ConflictError(`batch ${parsed.batchId} is uploaded in parts: say how many (parts)`);
      }
      const urls = await this.objects().presignParts(key, current.upload.uploadId, parsed.parts, expiresIn);
      return {
        batch: current,
        upload: { method: "PUT", expiresAt, parts: urls.map((url, index) => ({ partNumber: index + 1, url })) },
      };
    }
    return {
      batch: current,
      upload: { url: await this.objects().presignPut(key, expiresIn), method: "PUT", expiresAt },
    };
  }

  /**
   * The provider has put the file: processing starts (once; asking again changes nothing). This
   * is when an uploaded batch is submitted, and logged; its counts follow on the batch.
   */
  async completeUpload(
    caller: Caller,
    batchId: string,
    transactionId: string,
    input: unknown = {},
    provider = caller.systemId,
  ): Promise<Batch> {
    const key = batchKey(provider, batchId);
    const known = await this.deps.batches.get(key);
    return this.logged(caller, known?.datasetId ?? "unknown", transactionId, 0, async (found) => {
      const batch = readable(caller, batchId, provider, known);
      const { parts } = parseInput(completionInput, input, "completion");
      const dataset = await this.deps.catalog.getDataset(batch.datasetId);
      if (dataset) found(dataset);
      if (!batch.upload) throw new ConflictError(`batch ${batchId} was submitted inline, not uploaded`);
      let current: Batch = batch;
      if (batch.state === "awaiting-upload") {
        if (batch.upload.uploadId) {
          if (!parts) {
            throw new SyncRefusedError(
              "parts-missing",
              `batch ${batchId} was uploaded in parts: name each part and its ETag`,
            );
          }
          await this.objects().completeParts(batch.upload.key, batch.upload.uploadId, parts);
        }
        if (!(await this.objects().exists(batch.upload.key))) {
          throw new SyncRefusedError("upload-missing", `nothing was uploaded for batch ${batchId} yet`);
        }
        // Submitted now: its place among the dataset's batches is taken now.
        const sequence = await this.deps.batches.nextSequence(batch.datasetId);
        const moved = await this.deps.batches.transition(key, "awaiting-upload", { state: "processing", sequence });
        // Someone else moved it first: read how it stands now.
        current = moved ? { ...batch, state: "processing", sequence } : ((await this.deps.batches.get(key)) ?? batch);
      }
      // Not prepared yet: (re)start its processing. The execution is named after the batch, so a
      // second start is a no-op, and a start lost to a crash is recovered by asking again.
      if (current.state === "processing" && current.digest === "") await this.pipeline()(key);
      return { result: current, status: 202, batch: current };
    });
  }

  /**
   * Prepares an uploaded batch (a state machine's first task): streams the file once, validating
   * each operation and writing the valid ones to partitions by
   * key (so operations on one key stay in order) on local disk, then to storage. Memory holds
   * one line at a time, whatever the file's size.
   */
  async prepare(key: string): Promise<{ partitions: Partition[] }> {
    const batch = await this.deps.batches.get(key);
    if (!batch?.upload) throw new NotFoundError(`no uploaded batch ${key}`);
    const { batchId, providerSystem } = batch;
    const objects = this.objects();
    const schema = await this.deps.schemas(batch.schema.id, batch.schema.version);
    const dataset = await this.deps.catalog.getDataset(batch.datasetId);
    if (!schema || !dataset) throw new SyncRefusedError("no-schema", `${batch.datasetId} or its schema is gone`);
    // Partitions of about 2,000 operations, the count estimated from the file's size and its
    // first lines (a second pass over the file would cost as much as validating it).
    let sampled = 0;
    let sampledBytes = 0;
    for await (const line of objects.lines(batch.upload.key)) {
      sampledBytes += Buffer.byteLength(line) + 1;
      if (++sampled >= 1000) break;
    }
    const size = (await objects.size(batch.upload.key)) ?? sampledBytes;
    const lines = sampled === 0 ? 0 : Math.ceil(size / (sampledBytes / sampled));
    const count = Math.min(500, Math.max(1, Math.ceil(lines / PARTITION_OPERATIONS)));
    const folder = mkdtempSync(join(this.deps.scratch ?? tmpdir(), "batch-"));
    try {
      const files = Array.from({ length: count }, (_, index) => ({
        path: join(folder, `part-${index}.ndjson`),
        size: 0,
        stream: createWriteStream(join(folder, `part-${index}.ndjson`)),
      }));
      const check = this.deps.validator.check(schema.jsonSchema);
      const digest = createHash("sha256");
      const rejections: Rejection[] = [];
      const reportPath = join(folder, "rejections.ndjson");
      const report = createWriteStream(reportPath);
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
            : this.judge(raw, check, dataset.keyFields);
        if (!("operation" in verdict)) {
          rejected++;
          const rejection: Rejection = {
            index,
            ...("key" in verdict && verdict.key ? { key: verdict.key } : {}),
            errors: verdict.errors,
          };
          if (rejections.length < MAX_REJECTIONS_KEPT) rejections.push(rejection);
          if (!report.write(`${JSON.stringify(rejection)}\n`)) await once(report, "drain");
          continue;
        }
        const file = files[partitionOf(verdict.key, count)] as (typeof files)[number];
        const text = `${JSON.stringify({ index, key: verdict.key, operation: verdict.operation })}\n`;
        file.size += text.length;
        if (!file.stream.write(text)) await once(file.stream, "drain");
      }
      await Promise.all(
        [...files.map((file) => file.stream), report].map((stream) => new Promise((resolve) => stream.end(resolve))),
      );
      const rejectionReport = rejected > MAX_REJECTIONS_KEPT ? reportKey(batch.datasetId, batchId) : undefined;
      if (rejectionReport) await objects.putFile(rejectionReport, reportPath);
      const used = files.map((file, index) => ({ ...file, index })).filter((file) => file.size > 0);
      const partitions: Partition[] = [];
      for (const [chunk, file] of used.entries()) {
        const part = `batches/${batch.datasetId}/${batchId}/part-${file.index}.ndjson`;
        await objects.putFile(part, file.path);
        partitions.push({ batchId, providerSystem, datasetId: batch.datasetId, mode: batch.mode, chunk, key: part });
      }
      await this.deps.batches.transition(key, "processing", {
        digest: digest.digest("hex"),
        received,
        rejected,
        rejections,
        chunks: partitions.length,
        ...(rejectionReport ? { rejectionReport } : {}),
      });
      if (partitions.length === 0) await this.finalize({ ...batch, received, rejected, chunks: 0 });
      return { partitions };
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
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

  /** Every rejection of a batch, one JSON line each, kept beside its uploads. */
  private async writeReport(datasetId: string, batchId: string, lines: readonly string[]): Promise<string> {
    const folder = mkdtempSync(join(this.deps.scratch ?? tmpdir(), "report-"));
    try {
      const path = join(folder, "rejections.ndjson");
      writeFileSync(path, `${lines.join("\n")}\n`);
      const key = reportKey(datasetId, batchId);
      await this.objects().putFile(key, path);
      return key;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }

  private objects(): ObjectStore {
    if (!this.deps.objects) throw new DependencyUnavailableError("uploads are not connected here");
    return this.deps.objects;
  }

  private pipeline(): UploadPipeline {
    if (!this.deps.pipeline) throw new DependencyUnavailableError("the upload pipeline is not connected here");
    return this.deps.pipeline;
  }

  /** Completes a batch; a full sync without rejections deletes what it did not carry. */
  private async finalize(batch: Batch): Promise<Batch> {
    const at = this.now().toISOString();
    // A rejected record of a full sync would otherwise be deleted: then nothing is tombstoned.
    const fanOut = this.deps.fanOut;
    const tombstoning = batch.mode === "full" && batch.rejected === 0;
    if (tombstoning) await this.holdLease(batch);
    const tombstoned = tombstoning
      ? await this.deps.integrated.tombstoneUnseen(
          batch.datasetId,
          { batchId: batch.batchId, ...(batch.sequence ? { sequence: batch.sequence } : {}) },
          at,
          fanOut ? (page, deleted) => fanOut(batch, `t${page}`, deleted).then(() => undefined) : undefined,
        )
      : 0;
    await this.deps.batches.finish(keyOf(batch), { tombstoned, completedAt: at });
    await this.deps.integrated.release(batch.datasetId, batch.batchId);
    const completed: Batch = { ...batch, state: "completed", tombstoned, completedAt: at };
    this.deps.onFinished?.(completed);
    return completed;
  }

  /**
   * The same batch again changes nothing: its chunks, once queued, are applied once, and a
   * batch still applying is not queued again. Only a batch whose chunks were never queued (the
   * request that recorded it ended first, which it surely has after the API's timeout) has them
   * queued now.
   */
  private async resubmitted(
    existing: Batch,
    digest: string,
    chunks: readonly Chunk[],
  ): Promise<{ batch: Batch; replayed: boolean }> {
    if (existing.digest !== digest) {
      throw new ConflictError(`batch ${existing.batchId} was submitted with other content; a batch id names one batch`);
    }
    const abandoned = Date.parse(existing.submittedAt) + UNQUEUED_AFTER_MS < this.now().getTime();
    if (existing.state === "processing" && existing.queued === false && abandoned && chunks.length > 0) {
      return { batch: await this.enqueue(existing, chunks), replayed: true };
    }
    return { batch: existing, replayed: true };
  }

  /** A batch as it starts: nothing counted yet. */
  private newBatch(
    parsed: { batchId: string; mode: Batch["mode"] },
    dataset: Dataset,
    schema: SchemaVersion,
    transactionId: string,
  ): Batch {
    return {
      batchId: parsed.batchId,
      datasetId: dataset.id,
      providerSystem: dataset.providerSystem,
      providerAgency: dataset.managingAgency,
      mode: parsed.mode,
      schema: { id: schema.id, version: schema.version },
      digest: "",
      state: "processing",
      received: 0,
      rejected: 0,
      collapsed: 0,
      applied: 0,
      unchanged: 0,
      superseded: 0,
      tombstoned: 0,
      chunks: 0,
      chunksDone: 0,
      rejections: [],
      submittedAt: this.now().toISOString(),
      transactionId,
      deliveries: { expected: 0, delivered: 0, failed: 0, refused: 0 },
    };
  }

  /** The dataset, if the caller is the system that provides it (or the operator). */
  private async providedDataset(caller: Caller, datasetId: string, known?: Dataset): Promise<Dataset> {
    const dataset = known ?? (await this.deps.catalog.getDataset(datasetId));
    if (!dataset) throw new NotFoundError(`no dataset ${datasetId} in the catalog`);
    if (caller.systemId !== dataset.providerSystem && !isAdmin(caller)) {
      throw new ForbiddenError(`only ${dataset.providerSystem}, which provides ${datasetId}, submits its batches`);
    }
    return dataset;
  }

  private async schemaOf(dataset: Dataset): Promise<SchemaVersion> {
    if (!dataset.methods.includes("integrated") && !dataset.methods.includes("sync")) {
      throw new SyncRefusedError(
        "method-not-offered",
        `${dataset.id} is not shared by sync or through the integrated database`,
      );
    }
    if (!dataset.schema) {
      throw new SyncRefusedError(
        "no-schema",
        `${dataset.id} names no dictionary schema to validate its records against`,
      );
    }
    const schema = await this.deps.schemas(dataset.schema.id, dataset.schema.version);
    if (!schema)
      throw new SyncRefusedError("no-schema", `the dictionary has no ${dataset.schema.id} ${dataset.schema.version}`);
    return schema;
  }

  /** Every operation checked; the valid ones by key, a later one on the same key superseding an earlier one. */
  private validate(operations: readonly unknown[], schema: SchemaVersion, keyFields: readonly string[]) {
    const check = this.deps.validator.check(schema.jsonSchema);
    const byKey = new Map<string, { index: number; key: string; operation: Operation }>();
    const rejections: Rejection[] = [];
    let rejected = 0;
    operations.forEach((raw, index) => {
      const verdict = this.judge(raw, check, keyFields);
      if (!("operation" in verdict)) {
        rejected++;
        rejections.push({ index, ...(verdict.key ? { key: verdict.key } : {}), errors: verdict.errors });
        return;
      }
      byKey.set(verdict.key, { index, key: verdict.key, operation: verdict.operation });
    });
    const valid = [...byKey.values()].sort((a, b) => a.index - b.index);
    return { valid, rejections, rejected, collapsed: operations.length - rejected - valid.length };
  }

  /** One operation: valid, with its record's key; or its errors. */
  private judge(
    raw: unknown,
    check: RecordCheck,
    keyFields: readonly string[],
  ): { key: string; operation: Operation } | { key?: string; errors: Rejection["errors"] } {
    // A record field or key member named __proto__ would vanish in parsing; refused by path, as
    // parseInput refuses it in an inline batch, so an uploaded line holding one is not applied without it.
    const prototypeKeys = nestedPrototypeKeys(raw);
    if (prototypeKeys.length > 0) {
      return { errors: prototypeKeys.map((path) => ({ path, rule: "name", message: "is not an accepted name" })) };
    }
    const parsed = operationSchema.safeParse(raw);
    if (!parsed.success) {
      return {
        errors: parsed.error.issues.map((issue) => ({
          path: issue.path.join("/") || "(operation)",
          rule: issue.code,
          message: issue.message,
        })),
      };
    }
    const key =
      parsed.data.op === "upsert"
        ? dataKeyOf(parsed.data.record, keyFields)
        : typeof parsed.data.key === "string"
          ? parsed.data.key
          : dataKeyOf(parsed.data.key, keyFields);
    // The key becomes part of a store key: one DynamoDB would refuse is this record's fault, not the batch's.
    if (Buffer.byteLength(key) > MAX_RECORD_KEY_BYTES || !isKeyText(key)) {
      return {
        errors: [
          {
            path: "key",
            rule: "key",
            message: `must be at most ${MAX_RECORD_KEY_BYTES} bytes without control characters`,
          },
        ],
      };
    }
    if (parsed.data.op === "upsert") {
      const errors = check(parsed.data.record);
      if (errors.length > 0) return { key, errors };
      // A number the schema allows but the integrated database cannot hold is this record's fault, not its chunk's.
      const unstored = unstoredNumbers(parsed.data.record).map(({ path, message }) => ({
        path,
        rule: "number",
        message,
      }));
      return unstored.length > 0 ? { key, errors: unstored } : { key, operation: parsed.data };
    }
    return key.split("|").some((part) => part === "")
      ? { key, errors: [{ path: "key", rule: "required", message: `must give ${keyFields.join(", ")}` }] }
      : { key, operation: parsed.data };
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}

/**
 * The batch, if it exists and the caller may read it: its provider's agency, the supervisor, the
 * operator. To anyone else it is as absent as a batch that does not exist.
 */
function readable(caller: Caller, batchId: string, provider: string, batch: Batch | undefined): Batch {
  if (!batch || (!isOverseer(caller) && caller.agencyCode !== batch.providerAgency)) {
    throw new NotFoundError(`${provider} has no batch ${batchId} you may read`);
  }
  return batch;
}

/** Where a batch is kept. */
function keyOf(batch: Pick<Batch, "providerSystem" | "batchId">): string {
  return batchKey(batch.providerSystem, batch.batchId);
}

/** Where a chunk's batch is kept; a chunk queued before batch ids were scoped names only its batch. */
function chunkKey(chunk: Pick<Chunk, "providerSystem" | "batchId">): string {
  return chunk.providerSystem ? batchKey(chunk.providerSystem, chunk.batchId) : chunk.batchId;
}

function reportKey(datasetId: string, batchId: string): string {
  return `reports/${datasetId}/${batchId}-rejections.ndjson`;
}

/** The partition of a key: stable, so every operation on one key lands in the same one, in order. */
function partitionOf(key: string, partitions: number): number {
  return createHash("sha256").update(key).digest().readUInt32BE(0) % partitions;
}
