import * as z from "zod/mini";
import type { RecordChange } from "../delivery/model.ts";
import { ProblemError } from "../problem.ts";

/*
 * Sync batches (Art. 7.2b, 7.2c): a provider pushes upserts and deletes of a dataset's records;
 * the platform validates each against the dataset's schema version, applies the valid ones to
 * the National Integrated Database (the integrated store) and reports the rest.
 */

/** The most operations an inline batch carries; larger ones go through an upload. */
export const MAX_INLINE_OPERATIONS = 1000;

const operation = z.discriminatedUnion("op", [
  z.object({ op: z.literal("upsert"), record: z.record(z.string(), z.unknown()) }),
  z.object({
    op: z.literal("delete"),
    key: z.union([z.string().check(z.minLength(1)), z.record(z.string(), z.unknown())]),
  }),
]);
export type Operation = z.infer<typeof operation>;

export const batchInput = z.object({
  /** Chosen by the provider: sending the same batch again changes nothing. */
  batchId: z
    .string()
    .check(z.regex(/^[A-Za-z0-9._-]{8,100}$/, "must be 8-100 letters, digits, '.', '_' or '-' (a UUID will do)")),
  /** `incremental` applies what it carries; `full` also deletes every record it does not carry. */
  mode: z._default(z.enum(["incremental", "full"]), "incremental"),
  operations: z.array(z.unknown()).check(z.minLength(1), z.maxLength(MAX_INLINE_OPERATIONS)),
});
export type BatchInput = z.infer<typeof batchInput>;

export const operationSchema = operation;

/**
 * Where a batch is kept: batch ids are their provider system's own, so another provider's
 * batch of the same id is another batch, and nothing about it shows through this one's id.
 */
export function batchKey(providerSystem: string, batchId: string): string {
  return `${providerSystem}/${batchId}`;
}

/** Where a batch is kept ({@link batchKey}). */
export function batchKeyOf(batch: Pick<Batch, "providerSystem" | "batchId">): string {
  return batchKey(batch.providerSystem, batch.batchId);
}

/** Where a chunk's batch is kept; a chunk queued before batch ids were scoped names only its batch. */
export function chunkBatchKey(chunk: Pick<Chunk, "providerSystem" | "batchId">): string {
  return chunk.providerSystem ? batchKey(chunk.providerSystem, chunk.batchId) : chunk.batchId;
}

/** The dataset cannot take sync batches as it is. */
export class SyncRefusedError extends ProblemError {
  constructor(slug: string, detail: string) {
    super(422, `sync:${slug}`, "The dataset cannot take this batch", detail);
  }
}

/** Query parameter of the routes that read a batch: whose batch it is (default: the caller's). */
export const batchOwnerQuery = z.object({
  provider: z.optional(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9._-]{1,200}$/, "must be a system id"),
        z.describe(
          "The provider system whose batch this is (default: the caller; others for its agency, the supervisor, the operator)",
        ),
      ),
  ),
});

/** One operation the platform refused, and why. */
export interface Rejection {
  readonly index: number;
  readonly key?: string;
  readonly errors: ReadonlyArray<{ readonly path: string; readonly rule: string; readonly message: string }>;
}

export type BatchState = "awaiting-upload" | "processing" | "completed" | "failed";

export interface Batch {
  readonly batchId: string;
  readonly datasetId: string;
  readonly providerSystem: string;
  readonly providerAgency: string;
  readonly mode: "incremental" | "full";
  readonly schema: { readonly id: string; readonly version: string };
  /** SHA-256 of the batch as submitted: the same id with other content is refused. */
  readonly digest: string;
  readonly state: BatchState;
  readonly received: number;
  readonly rejected: number;
  /** Valid operations superseded by a later one on the same key in the same batch. */
  readonly collapsed: number;
  /** Valid operations applied so far (upserts and deletes). */
  readonly applied: number;
  /** Of the applied upserts, those identical to the stored record (no new version). */
  readonly unchanged: number;
  /**
   * Of the applied operations, those on a record a later batch of the dataset had already
   * written: no new version (the later batch's stands).
   */
  readonly superseded?: number;
  /** Records a full sync deleted because the batch did not carry them. */
  readonly tombstoned: number;
  readonly chunks: number;
  readonly chunksDone: number;
  readonly rejections: readonly Rejection[];
  readonly submittedAt: string;
  readonly completedAt?: string;
  readonly transactionId: string;
  /**
   * The batch's place among its dataset's batches, from 1, given when it is submitted: an
   * operation never overwrites a record that a later batch wrote, whatever order they are applied in.
   */
  readonly sequence?: number;
  /** False from when an inline batch is recorded until its chunks are queued (a crash between the two is recovered by sending it again). */
  readonly queued?: boolean;
  /** For an uploaded batch: where its file is, and the multipart upload it arrives in. */
  readonly upload?: { readonly key: string; readonly uploadId?: string };
  /** Why a batch failed. */
  readonly failure?: string;
  /** When more operations were rejected than the batch lists: where every rejection is, one per line. */
  readonly rejectionReport?: string;
  /** Its changes' deliveries to subscribed consumers (7.2b), in record versions. */
  readonly deliveries: {
    readonly expected: number;
    readonly delivered: number;
    readonly failed: number;
    readonly refused: number;
  };
}

/** One chunk of a batch's valid operations, as the worker receives it. */
export interface Chunk {
  readonly batchId: string;
  /** The batch's provider system, whose batch id it is (none in chunks queued before ids were scoped). */
  readonly providerSystem?: string;
  readonly datasetId: string;
  readonly chunk: number;
  readonly mode: "incremental" | "full";
  /** Each valid operation with its index in the batch (the idempotency of a record's version). */
  readonly operations: ReadonlyArray<{ readonly index: number; readonly key: string; readonly operation: Operation }>;
}

/** A record of the integrated store as it stands. */
export interface StoredRecord {
  readonly datasetId: string;
  readonly key: string;
  readonly record: Record<string, unknown>;
  readonly version: number;
  readonly deleted: boolean;
  readonly sourceBatch: string;
  readonly updatedAt: string;
}

/**
 * What applying one operation did: `replayed`, applied before (a chunk delivered again);
 * `superseded`, a later batch had written the record already, so nothing changed.
 */
export type ApplyOutcome = "created" | "updated" | "unchanged" | "deleted" | "absent" | "replayed" | "superseded";

/** What applying one operation did, and the version it made (also when replayed), for delivery. */
export interface Applied {
  readonly outcome: ApplyOutcome;
  readonly change?: RecordChange;
}

/** One operation of a batch, where it stands in the batch, and when it is applied. */
export interface ApplyInput {
  readonly datasetId: string;
  readonly key: string;
  readonly operation: Operation;
  readonly batchId: string;
  readonly index: number;
  /**
   * The batch's sequence in its dataset ({@link Batch.sequence}): an operation of an earlier
   * batch never overwrites a record a later one wrote. None (0) for writes without one.
   */
  readonly sequence?: number;
  /** The batch is a full sync: the record is marked seen by it. */
  readonly fullSync: boolean;
  readonly at: string;
}

export interface IntegratedStore {
  /** Applies one operation of a batch, exactly once per (batch, index); keeps the previous version as history. */
  apply(input: ApplyInput): Promise<Applied>;
  /**
   * Applies a window of operations of one dataset (each key's in order), as `apply` would one by
   * one; results in input order. `exclusive`: the caller holds the dataset's lease, so no other
   * batch writes its records meanwhile and writes need no condition.
   */
  applyWindow(inputs: readonly ApplyInput[], exclusive?: boolean): Promise<Applied[]>;
  /** Takes or renews the dataset's lease for a batch, for `ttlMs`; false while another batch holds it. */
  lease(datasetId: string, batchId: string, ttlMs: number): Promise<boolean>;
  /** Gives the dataset's lease up, if the batch holds it. */
  release(datasetId: string, batchId: string): Promise<void>;
  get(datasetId: string, key: string): Promise<StoredRecord | undefined>;
  /** Live records matching equality filters, a page at a time. */
  query(
    datasetId: string,
    filters: Readonly<Record<string, unknown>>,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: StoredRecord[]; nextCursor?: string }>;
  /**
   * Deletes every live record a full sync did not carry (and no later batch wrote), a page at a
   * time, handing each page's deletions on; returns how many.
   */
  tombstoneUnseen(
    datasetId: string,
    batch: { readonly batchId: string; readonly sequence?: number },
    at: string,
    onPage?: (page: number, deleted: readonly RecordChange[]) => Promise<void>,
  ): Promise<number>;
}

/** The batch store names each batch by its {@link batchKey} (its provider system and its id). */
export interface BatchStore {
  /** Stores a new batch; returns the existing one when its provider has one of that id. */
  create(batch: Batch): Promise<Batch | undefined>;
  get(key: string): Promise<Batch | undefined>;
  /** The next sequence number of the dataset's batches (1, 2, …; some may go unused). */
  nextSequence(datasetId: string): Promise<number>;
  /** Counts a chunk done once; returns the batch after it, or undefined if that chunk was already counted. */
  completeChunk(
    key: string,
    chunk: number,
    counts: { applied: number; unchanged: number; superseded: number },
  ): Promise<Batch | undefined>;
  /** Changes a batch if it is still in state `from`; false otherwise. */
  transition(key: string, from: BatchState, changes: Partial<Batch>): Promise<boolean>;
  /** Adds to the batch's delivery counts (negative to take away). */
  countDeliveries(key: string, delta: Partial<Batch["deliveries"]>): Promise<void>;
  /** Marks the batch completed (once): returns false if it already was. */
  finish(key: string, update: { tombstoned: number; completedAt: string }): Promise<boolean>;
}

/** Delivers changes to subscribers (7.2b): `source` names the part of the batch they come from. */
export type FanOut = (
  batch: Pick<Batch, "batchId" | "datasetId" | "providerSystem" | "providerAgency">,
  source: string,
  changes: readonly RecordChange[],
) => Promise<unknown>;

/** Told of every batch that completes or fails: the per-batch metrics. */
export type BatchFinished = (batch: Batch) => void;

/** Rejections listed on a batch; beyond them, every rejection is in the batch's report object. */
export const MAX_REJECTIONS_KEPT = 200;

/** Hands chunks to the workers that apply them, after `delaySeconds` if given. */
export type ChunkQueue = (chunks: readonly Chunk[], delaySeconds?: number) => Promise<void>;

/** Starts processing an uploaded batch, named by its {@link batchKey} (the upload state machine in the platform). */
export type UploadPipeline = (key: string) => Promise<void>;

export const uploadInput = z.object({
  batchId: batchInput.shape.batchId,
  mode: batchInput.shape.mode,
  /** For a large file: how many parts it goes up in (each at least 5 MiB but the last). */
  parts: z.optional(z.number().check(z.int(), z.minimum(2), z.maximum(10_000))),
});

/** Body of `POST /v1/sync/batches/{batchId}/complete` after a multipart upload. */
export const completionInput = z.object({
  parts: z.optional(
    z
      .array(z.object({ partNumber: z.number().check(z.int(), z.minimum(1)), etag: z.string().check(z.minLength(1)) }))
      .check(z.minLength(1), z.maxLength(10_000)),
  ),
});

/** One partition of an uploaded batch, as the state machine hands it to a worker. */
export interface Partition {
  readonly batchId: string;
  /** The batch's provider system, whose batch id it is. */
  readonly providerSystem?: string;
  readonly datasetId: string;
  readonly mode: "incremental" | "full";
  readonly chunk: number;
  readonly key: string;
}
