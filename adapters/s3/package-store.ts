import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { PackageStore } from "../../domain/export/model.ts";
import { s3 } from "./object-store.ts";

/** Parts of 8 MiB: S3 wants at least 5 MiB a part but the last, and at most 10,000 parts (80 GB). */
const PART_BYTES = 8 * 1_048_576;

/**
 * Packages in a bucket, written as a stream through a multipart upload (one part in memory at a
 * time, hashed as it passes, aborted on failure) and read back through presigned links. The
 * bucket's default encryption (SSE-KMS) applies to every part.
 */
export function s3PackageStore(bucket: string): PackageStore {
  return {
    open(key) {
      const hash = createHash("sha256");
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      let buffered: Buffer[] = [];
      let size = 0;
      let bytes = 0;
      let uploadId: string | undefined;
      const upload = async (last: boolean) => {
        if (size === 0 && !last) return;
        uploadId ??= (
          await s3().send(
            new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: "application/gzip" }),
          )
        ).UploadId;
        const body = Buffer.concat(buffered);
        buffered = [];
        size = 0;
        const { ETag } = await s3().send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: parts.length + 1,
            Body: body,
          }),
        );
        parts.push({ PartNumber: parts.length + 1, ETag: String(ETag) });
      };
      let settle: { resolve: (value: { bytes: number; sha256: string }) => void; reject: (error: Error) => void };
      const done = new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
        settle = { resolve, reject };
      });
      const stream = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          buffered.push(chunk);
          size += chunk.length;
          bytes += chunk.length;
          if (size < PART_BYTES) return callback();
          upload(false).then(() => callback(), callback);
        },
        final(callback) {
          upload(true)
            .then(() =>
              s3().send(
                new CompleteMultipartUploadCommand({
                  Bucket: bucket,
                  Key: key,
                  UploadId: uploadId,
                  MultipartUpload: { Parts: parts },
                }),
              ),
            )
            .then(() => {
              settle.resolve({ bytes, sha256: hash.digest("hex") });
              callback();
            }, callback);
        },
        destroy(error, callback) {
          if (error) settle.reject(error);
          if (uploadId) {
            s3()
              .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
              .catch(() => undefined);
          }
          callback(error);
        },
      });
      done.catch(() => undefined);
      return { stream, done };
    },
    presignGet: (key, expiresInSeconds, filename) =>
      getSignedUrl(
        s3(),
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ResponseContentDisposition: `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
        }),
        { expiresIn: expiresInSeconds },
      ),
  };
}
