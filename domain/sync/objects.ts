/*
 * Where uploaded batches, their partitions and their rejection reports live (the uploads bucket
 * in the platform), and the one place their keys are built. The bucket's lifecycle rules and each
 * function's grants name the same prefixes (lib/constructs/data-stores.ts, lib/constructs/sync.ts).
 */

/** The objects of a batch in the uploads bucket. */
export const objectKeys = {
  /** The NDJSON file a provider uploads. */
  upload: (datasetId: string, batchId: string) => `uploads/${datasetId}/${batchId}.ndjson`,
  /** One partition of a prepared upload: the valid operations on some of its keys. */
  partition: (datasetId: string, batchId: string, index: number) =>
    `batches/${datasetId}/${batchId}/part-${index}.ndjson`,
  /** Every rejection of a batch, one JSON line each, when more were rejected than the batch lists. */
  rejectionReport: (datasetId: string, batchId: string) => `reports/${datasetId}/${batchId}-rejections.ndjson`,
} as const;

/**
 * An object written a line at a time and stored only when committed: until then it is kept aside
 * (on local disk in the platform), so memory holds one line at a time whatever its size.
 */
export interface LineSink {
  /** Appends one line (its newline is added); resolves when the sink takes more. */
  write(line: string): Promise<void>;
  /** Stores what was written as the object. */
  commit(): Promise<void>;
  /** Drops what was kept aside; the object, if committed, stays. Safe to call more than once. */
  discard(): Promise<void>;
}

/** The objects of one bucket. */
export interface ObjectStore {
  /** A URL the provider PUTs the file to, valid for `expiresInSeconds`. */
  presignPut(key: string, expiresInSeconds: number): Promise<string>;
  /** Starts a multipart upload of the object; returns its id. */
  startParts(key: string): Promise<string>;
  /** A PUT URL for each part of a multipart upload. */
  presignParts(key: string, uploadId: string, parts: number, expiresInSeconds: number): Promise<string[]>;
  /** Assembles the parts the provider put, named by the ETags S3 gave each. */
  completeParts(
    key: string,
    uploadId: string,
    parts: ReadonlyArray<{ partNumber: number; etag: string }>,
  ): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** The object's size in bytes, or undefined if there is none. */
  size(key: string): Promise<number | undefined>;
  /** The object's lines, streamed. */
  lines(key: string): AsyncIterable<string>;
  /** An object `key` to write a line at a time, stored on {@link LineSink.commit}. */
  stage(key: string): Promise<LineSink>;
  /** A URL to GET the object from, valid for `expiresInSeconds`. */
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
}
