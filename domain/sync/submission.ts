import { createHash } from "node:crypto";
import { groupsOf } from "../batching.ts";
import { canonicalJson } from "../canonical-json.ts";
import type { CatalogStore, Dataset } from "../catalog/model.ts";
import type { SchemaVersion } from "../dictionary/model.ts";
import type { RecordValidator } from "../dictionary/validator.ts";
import type { ExchangeLog } from "../exchange/model.ts";
import { recorded } from "../exchange-log/attempt.ts";
import { isAdmin } from "../identity/authorization.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../problem.ts";
import type { Caller } from "../registry/model.ts";
import { parseInput } from "../validation.ts";
import type { Completion } from "./completion.ts";
import {
  type Batch,
  type BatchStore,
  batchInput,
  batchKey,
  batchKeyOf,
  type Chunk,
  type ChunkQueue,
  completionInput,
  MAX_REJECTIONS_KEPT,
  SyncRefusedError,
  type UploadPipeline,
  uploadInput,
} from "./model.ts";
import { type ObjectStore, objectKeys } from "./objects.ts";
import { validateOperations } from "./operations.ts";
import { readable } from "./status.ts";

/** The National Integrated Database, as the receiving party of batches in the exchange log. */
export const INTEGRATED_DATABASE = { system: "NDC.INTEGRATED", agency: "NDC" } as const;

/** At most this many operations, and about this many bytes, per chunk a worker applies. */
const CHUNK_OPERATIONS = 100;
const CHUNK_BYTES = 180_000;
/**
 * A batch recorded this long ago whose chunks are still not queued was left so by a request
 * that ended (the API function times out after 28 s): sending it again queues them.
 */
const UNQUEUED_AFTER_MS = 30_000;
/** How long an upload URL works. */
const UPLOAD_URL_SECONDS = 3600;

/**
 * Takes sync batches into the National Integrated Database (Art. 7.2c): inline batches validated
 * against the dataset's schema version when submitted and their valid operations queued in
 * chunks; large batches uploaded as files, then handed to the upload state machine. Every
 * submission, taken or refused, is one entry in the exchange log.
 */
export class Submission {
  constructor(
    private readonly deps: {
      readonly catalog: Pick<CatalogStore, "getDataset">;
      readonly schemas: (id: string, version: string) => Promise<SchemaVersion | undefined>;
      readonly validator: RecordValidator;
      readonly batches: Pick<BatchStore, "create" | "get" | "nextSequence" | "transition">;
      readonly queue: ChunkQueue;
      /** The exchange log (Art. 13): one entry per batch submitted, taken or refused. */
      readonly log: ExchangeLog;
      /** Uploaded batch files, and the reports of inline batches' rejections. */
      readonly objects: Pick<
        ObjectStore,
        "presignPut" | "startParts" | "presignParts" | "completeParts" | "exists" | "stage"
      >;
      /** The state machine that processes uploaded batches. */
      readonly pipeline: UploadPipeline;
      /** Finishes a batch with nothing to apply. */
      readonly completion: Pick<Completion, "complete">;
      readonly now?: () => Date;
    },
  ) {}

  /** Takes a batch: the same batch id again returns the batch as it stands and changes nothing. */
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

  /**
   * Opens an upload for a large batch: the batch is recorded, awaiting its file, and the
   * provider gets a URL to PUT the NDJSON file to (one operation per line), valid an hour.
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
    const key = objectKeys.upload(datasetId, parsed.batchId);
    const expiresIn = UPLOAD_URL_SECONDS;
    const objects = this.deps.objects;
    const known = await this.deps.batches.get(batchKey(dataset.providerSystem, parsed.batchId));
    const uploadId = parsed.parts && !known ? await objects.startParts(key) : undefined;
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
      const urls = await objects.presignParts(key, current.upload.uploadId, parsed.parts, expiresIn);
      return {
        batch: current,
        upload: { method: "PUT", expiresAt, parts: urls.map((url, index) => ({ partNumber: index + 1, url })) },
      };
    }
    return {
      batch: current,
      upload: { url: await objects.presignPut(key, expiresIn), method: "PUT", expiresAt },
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
          await this.deps.objects.completeParts(batch.upload.key, batch.upload.uploadId, parts);
        }
        if (!(await this.deps.objects.exists(batch.upload.key))) {
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
      if (current.state === "processing" && current.digest === "") await this.deps.pipeline(key);
      return { result: current, status: 202, batch: current };
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
    let batch: Batch | undefined;
    const done = await recorded(
      this.deps.log,
      () => ({
        transactionId,
        started,
        consumerSystem: INTEGRATED_DATABASE.system,
        consumerAgency: INTEGRATED_DATABASE.agency,
        submittedBy: caller.systemId,
        // The person (and case) the submitting system named in its token, as for any exchange.
        ...(caller.endUser !== undefined ? { endUser: caller.endUser } : {}),
        ...(caller.caseRef !== undefined ? { caseRef: caller.caseRef } : {}),
        datasetId,
        ...(dataset ? { dataset } : {}),
        operation: "sync-batch",
        method: "integrated",
        ...(batch
          ? {
              batchId: batch.batchId,
              recordCount: batch.received - batch.rejected - batch.collapsed,
              invalidRecords: batch.rejected,
            }
          : {}),
        bytes,
      }),
      async () => {
        const submitted = await work((found) => {
          dataset = found;
        });
        batch = submitted.batch;
        return submitted;
      },
      (done) => done.status,
    );
    return done.result;
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
    const { valid, rejections, rejected, collapsed } = validateOperations(
      parsed.operations,
      this.deps.validator.check(schema.jsonSchema),
      dataset.keyFields,
    );
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
    if (chunks.length === 0) return { batch: await this.deps.completion.complete(batch), replayed: false };
    return { batch: await this.enqueue(batch, chunks), replayed: false };
  }

  /** Queues a recorded batch's chunks, then notes that they are queued. */
  private async enqueue(batch: Batch, chunks: readonly Chunk[]): Promise<Batch> {
    await this.deps.queue(chunks);
    await this.deps.batches.transition(batchKeyOf(batch), "processing", { queued: true });
    return { ...batch, queued: true };
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

  /** Every rejection of a batch, one JSON line each, kept beside its uploads. */
  private async writeReport(datasetId: string, batchId: string, lines: readonly string[]): Promise<string> {
    const key = objectKeys.rejectionReport(datasetId, batchId);
    const report = await this.deps.objects.stage(key);
    try {
      for (const line of lines) await report.write(line);
      await report.commit();
      return key;
    } finally {
      await report.discard();
    }
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

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}
