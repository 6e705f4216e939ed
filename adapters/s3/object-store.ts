import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { LineSink, ObjectStore } from "../../domain/sync/objects.ts";

let client: S3Client | undefined;

/** Files above this go up in parts of this size (S3 wants at least 5 MiB a part but the last). */
const PART_BYTES = 8 * 1_048_576;

/** The process-wide S3 client; path-style addressing when an endpoint is set (LocalStack, local runtime). */
export function s3(): S3Client {
  client ??= new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL) });
  return client;
}

/**
 * Objects of one bucket: presigned uploads, line-by-line reads and streamed writes, never whole in
 * memory. Objects written a line at a time are kept in a file under `scratch` until committed.
 */
export function s3ObjectStore(bucket: string, scratch: string = tmpdir()): ObjectStore {
  const sizeOf = async (key: string): Promise<number | undefined> => {
    try {
      const { ContentLength } = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return ContentLength ?? 0;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as Error).name === "NotFound") return undefined;
      throw error;
    }
  };
  return {
    presignPut: (key, expiresInSeconds) =>
      getSignedUrl(s3(), new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: "application/x-ndjson" }), {
        expiresIn: expiresInSeconds,
      }),
    async startParts(key) {
      const { UploadId } = await s3().send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: "application/x-ndjson" }),
      );
      return String(UploadId);
    },
    presignParts: (key, uploadId, parts, expiresInSeconds) =>
      Promise.all(
        Array.from({ length: parts }, (_, index) =>
          getSignedUrl(
            s3(),
            new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: index + 1 }),
            {
              expiresIn: expiresInSeconds,
            },
          ),
        ),
      ),
    async completeParts(key, uploadId, parts) {
      await s3().send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
        }),
      );
    },
    exists: async (key) => (await sizeOf(key)) !== undefined,
    size: sizeOf,
    async *lines(key) {
      const { Body } = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!Body) return;
      yield* createInterface({ input: Body as Readable, crlfDelay: Number.POSITIVE_INFINITY });
    },
    presignGet: (key, expiresInSeconds) =>
      getSignedUrl(s3(), new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds }),
    stage: (key) => stagedObject(scratch, (path) => putFile(bucket, key, path)),
  };
}

/** A line sink kept in its own folder under `scratch` until `store` puts the file as the object. */
async function stagedObject(scratch: string, store: (path: string) => Promise<void>): Promise<LineSink> {
  const folder = await mkdtemp(join(scratch, "object-"));
  const path = join(folder, "object.ndjson");
  const stream = createWriteStream(path);
  let failure: Error | undefined;
  stream.on("error", (error) => {
    failure = error;
  });
  let writable = true;
  return {
    async write(line) {
      if (failure) throw failure;
      if (!stream.write(`${line}\n`)) await once(stream, "drain");
    },
    async commit() {
      if (!writable) throw new Error("a staged object is committed once, and not after it is discarded");
      writable = false;
      stream.end();
      await finished(stream);
      if (failure) throw failure;
      await store(path);
      await rm(folder, { recursive: true, force: true });
    },
    async discard() {
      if (writable) {
        writable = false;
        stream.destroy();
      }
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** Writes a local file as the object, streamed: larger files go up in parts, one part in memory at a time. */
async function putFile(bucket: string, key: string, path: string): Promise<void> {
  const { size } = await stat(path);
  if (size <= PART_BYTES) {
    await s3().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: createReadStream(path),
        ContentLength: size,
        ContentType: "application/x-ndjson",
      }),
    );
    return;
  }
  const { UploadId } = await s3().send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: "application/x-ndjson" }),
  );
  const parts: Array<{ PartNumber: number; ETag: string }> = [];
  const file = await open(path, "r");
  try {
    for (let offset = 0, number = 1; offset < size; offset += PART_BYTES, number++) {
      const buffer = Buffer.alloc(Math.min(PART_BYTES, size - offset));
      await file.read(buffer, 0, buffer.length, offset);
      const { ETag } = await s3().send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: number, Body: buffer }),
      );
      parts.push({ PartNumber: number, ETag: String(ETag) });
    }
  } finally {
    await file.close();
  }
  await s3().send(
    new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
  );
}
