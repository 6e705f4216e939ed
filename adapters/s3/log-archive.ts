import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import type { ChainedEntry } from "../../domain/exchange-log/chain.ts";
import { parseSegment } from "../../domain/exchange-log/checkpoint.ts";
import {
  ArchiveConflictError,
  type LogArchive,
  type StoredCheckpoint,
} from "../../domain/exchange-log/checkpointing.ts";
import { s3 } from "./object-store.ts";

const DIGITS = 12;
const LAST = 10 ** DIGITS - 1;

/**
 * Keys sort newest first (S3 lists in key order): checkpoint n is stored at the complement of n,
 * so the latest is the first key listed.
 */
export function checkpointKey(number: number): string {
  return `checkpoints/${String(LAST - number).padStart(DIGITS, "0")}.jws`;
}

/** Segments of a shard list in sequence order. */
export function segmentKey(shard: number, fromSeq: number, toSeq: number): string {
  return `segments/shard-${shard}/${String(fromSeq).padStart(DIGITS, "0")}-${String(toSeq).padStart(DIGITS, "0")}.ndjson`;
}

/**
 * The exchange log's archive in S3 (the log-archive bucket, under Object Lock in compliance
 * mode): signed checkpoints and the segments of entries they cover. Every write is
 * create-only (`If-None-Match: *`), so no object is ever replaced by a newer version.
 */
export function s3LogArchive(bucket: string): LogArchive {
  const read = async (key: string): Promise<Buffer | undefined> => {
    try {
      const { Body } = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from((await Body?.transformToByteArray()) ?? []);
    } catch (error) {
      if ((error as Error).name === "NoSuchKey") return undefined;
      throw error;
    }
  };
  const put = async (key: string, body: Buffer, contentType: string) => {
    try {
      await s3().send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: "*" }),
      );
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // 412: the key exists; 409: a concurrent conditional write to it is in flight.
      if (status === 412 || status === 409) throw new ArchiveConflictError(key, { cause: error });
      throw error;
    }
  };
  const listCheckpointKeys = async (limit: number, afterNumber?: number) => {
    const { Contents = [], IsTruncated } = await s3().send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: "checkpoints/",
        MaxKeys: limit,
        ...(afterNumber !== undefined ? { StartAfter: checkpointKey(afterNumber) } : {}),
      }),
    );
    return { keys: Contents.map((object) => String(object.Key)), more: IsTruncated === true };
  };
  return {
    async putSegment(shard, entries, body) {
      const first = entries[0] as ChainedEntry;
      const last = entries.at(-1) as ChainedEntry;
      const key = segmentKey(shard, first.seq, last.seq);
      await put(key, body, "application/x-ndjson");
      return key;
    },
    async putCheckpoint(number, jws) {
      await put(checkpointKey(number), Buffer.from(`${jws}\n`), "application/jose");
    },
    async latest() {
      const { keys } = await listCheckpointKeys(1);
      const key = keys[0];
      if (!key) return undefined;
      const body = await read(key);
      return body ? { key, jws: body.toString("utf8").trim() } : undefined;
    },
    async list(limit, afterNumber) {
      const { keys, more } = await listCheckpointKeys(limit, afterNumber);
      const items: StoredCheckpoint[] = [];
      for (const key of keys) {
        const body = await read(key);
        if (body) items.push({ key, jws: body.toString("utf8").trim() });
      }
      return { items, more };
    },
    async *segments(shard) {
      let token: string | undefined;
      do {
        const page = await s3().send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: `segments/shard-${shard}/`,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        for (const object of page.Contents ?? []) {
          const key = String(object.Key);
          const body = await read(key);
          if (body) yield { key, entries: parseSegment(body) };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
  };
}
