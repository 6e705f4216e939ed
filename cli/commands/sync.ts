import { createHash } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { syncRoutes } from "../../api/sync.ts";
import type { DeliveryState } from "../../domain/delivery/model.ts";
import type { Command } from "../command.ts";
import type { Context } from "../context.ts";
import { errorLine } from "../format.ts";
import { pageOf, paging } from "../options.ts";
import { follow } from "../wait.ts";

interface SyncBatch {
  batchId: string;
  state: string;
  received: number;
  applied: number;
  unchanged: number;
  rejected: number;
  tombstoned: number;
  chunks: number;
  chunksDone: number;
  rejections: Array<{ index: number; errors: Array<{ path: string; rule: string; message: string }> }>;
  deliveries?: { expected: number; delivered: number; failed: number; refused: number };
  rejectionReportUrl?: string;
}

/** Where a batch's file goes: one presigned URL, or one per part. */
interface UploadTarget {
  url?: string;
  parts?: Array<{ partNumber: number; url: string }>;
}

const providerOption = {
  provider: { type: "string", hint: "the provider system whose batch it is (default: yours)" },
} as const;

/** Sync into the National Integrated Database (Art. 7.2c): a provider's batches, and their deliveries. */
export const syncCommands: readonly Command[] = [
  {
    name: "sync push",
    args: ["datasetId", "file"],
    summary: "Push an NDJSON file of operations (upsert/delete) as one batch, and follow it to completion (provider)",
    options: {
      batch: {
        type: "string",
        hint: "batch id (default: one derived from the file's content, so a retry is harmless)",
      },
      full: { type: "boolean", hint: "a full sync: records the file does not carry are deleted" },
      "no-wait": { type: "boolean", hint: "return once the batch is accepted" },
    },
    async run(context, [datasetId, file], values) {
      const path = context.existing(String(file));
      const client = context.client();
      const batchId = String(values.batch ?? `file-${await fileDigest(path)}`);
      const size = statSync(path).size;
      // Files above 8 MiB go up in 8 MiB parts (S3 multipart), one part in memory at a time.
      const parts = size > PART_BYTES ? Math.ceil(size / PART_BYTES) : undefined;
      const opened: { batch: { state: string; providerSystem: string }; upload?: UploadTarget } = await client.invoke(
        syncRoutes.startUpload,
        {
          path: { datasetId: String(datasetId) },
          body: { batchId, mode: values.full ? "full" : "incremental", ...(parts ? { parts } : {}) },
        },
      );
      const uploaded = await upload(context, path, size, batchId, opened.upload);
      // Batch ids are their provider's: named, so that the operator pushing for a provider follows it too.
      const owner = { provider: opened.batch.providerSystem };
      const current = (): Promise<SyncBatch> => client.invoke(syncRoutes.getBatch, { path: { batchId }, query: owner });
      const batch = await follow(
        await client.invoke<SyncBatch, typeof syncRoutes.completeUpload.path>(syncRoutes.completeUpload, {
          path: { batchId },
          body: uploaded.length > 0 ? { parts: uploaded } : {},
          query: owner,
        }),
        (batch) => !values["no-wait"] && (batch.state === "processing" || batch.state === "awaiting-upload"),
        (batch) => context.io.stderr(`\r${progressBar(batch)}`),
        current,
      );
      context.io.stderr(`\r${progressBar(batch)}\n`);
      if (context.json) context.print(batch);
      else await printBatch(context, batch, current);
      return batch.state === "failed" || batch.rejected > 0 ? 1 : 0;
    },
  },
  {
    name: "sync status",
    args: ["batchId"],
    summary: "A batch's state and counts, with its rejections and its deliveries to subscribers",
    options: providerOption,
    async run(context, [batchId], values) {
      context.print(
        await context.client().getBatch(String(batchId), values.provider ? String(values.provider) : undefined),
      );
      return 0;
    },
  },
  {
    name: "sync deliveries",
    args: ["batchId"],
    summary: "Where each delivery of a batch's changes stands: state, attempts, last error",
    options: {
      state: { type: "string", hint: "pending, delivered, failed or refused" },
      ...providerOption,
      ...paging,
    },
    async run(context, [batchId], values) {
      const page = await context.client().listBatchDeliveries(String(batchId), {
        ...(values.state ? { state: String(values.state) as DeliveryState } : {}),
        ...(values.provider ? { provider: String(values.provider) } : {}),
        ...pageOf(values),
      });
      context.table(page, ["messageId", "consumerSystem", "delivery", "records", "state", "attempts", "lastError"]);
      return 0;
    },
  },
];

/** Uploads a batch's file where the platform said; returns the parts of a multipart upload with their ETags. */
async function upload(
  context: Context,
  path: string,
  size: number,
  batchId: string,
  target: UploadTarget | undefined,
): Promise<Array<{ partNumber: number; etag: string }>> {
  const uploaded: Array<{ partNumber: number; etag: string }> = [];
  if (target?.url) {
    context.io.stderr(`uploading ${size} bytes as batch ${batchId}\n`);
    await putBytes(target.url, readFileSync(path));
  } else if (target?.parts) {
    context.io.stderr(`uploading ${size} bytes in ${target.parts.length} parts as batch ${batchId}\n`);
    for (const part of target.parts) {
      const bytes = await readRange(path, (part.partNumber - 1) * PART_BYTES, PART_BYTES);
      uploaded.push({ partNumber: part.partNumber, etag: await putBytes(part.url, bytes) });
      context.io.stderr(`\rpart ${part.partNumber}/${target.parts.length}`);
    }
    context.io.stderr("\n");
  }
  return uploaded;
}

/** A finished batch's counts, its deliveries, and every rejected line (the rest from its report file). */
async function printBatch(context: Context, batch: SyncBatch, current: () => Promise<SyncBatch>): Promise<void> {
  const printRejection = (rejection: SyncBatch["rejections"][number]) => {
    for (const error of rejection.errors) context.io.stdout(errorLine(rejection.index + 1, error));
  };
  context.io.stdout(
    `${batch.batchId}: ${batch.state}; received ${batch.received}, applied ${batch.applied} (unchanged ${batch.unchanged}), rejected ${batch.rejected}, deleted as absent ${batch.tombstoned}\n`,
  );
  const { expected, delivered, failed, refused } = batch.deliveries ?? { expected: 0 };
  if (expected > 0) {
    context.io.stdout(
      `deliveries to subscribers: ${delivered} of ${expected} record versions delivered, ${failed} failed, ${refused} refused (dscp sync deliveries ${batch.batchId})\n`,
    );
  }
  for (const rejection of batch.rejections) printRejection(rejection);
  if (batch.rejected > batch.rejections.length) {
    // The rest are in the batch's report file: printed from it, line by line.
    const { rejectionReportUrl } = await current();
    const report = rejectionReportUrl ? await fetch(rejectionReportUrl) : undefined;
    if (report?.ok && report.body) {
      const lines = createInterface({ input: Readable.fromWeb(report.body as never) });
      let number = 0;
      for await (const line of lines) {
        if (number++ < batch.rejections.length || !line) continue;
        printRejection(JSON.parse(line) as SyncBatch["rejections"][number]);
      }
    } else {
      context.io.stdout(`(${batch.rejected - batch.rejections.length} more rejected records not listed)\n`);
    }
  }
}

/** `[#######.....] 7/10 parts, 7,000 applied` */
function progressBar(batch: SyncBatch): string {
  const width = 30;
  const done =
    batch.chunks > 0 ? Math.round((batch.chunksDone / batch.chunks) * width) : batch.state === "completed" ? width : 0;
  return `[${"#".repeat(done)}${".".repeat(width - done)}] ${batch.chunksDone}/${batch.chunks || "?"} parts, ${batch.applied.toLocaleString("en")} applied, ${batch.rejected} rejected`;
}

/** The size of each part of a multipart upload (S3 wants at least 5 MiB but the last). */
const PART_BYTES = 8 * 1_048_576;

/** PUTs bytes to a presigned URL; returns the ETag S3 gave them. */
async function putBytes(url: string, bytes: Buffer): Promise<string> {
  const response = await fetch(url, {
    method: "PUT",
    headers: { "Content-Type": "application/x-ndjson" },
    body: bytes,
  });
  if (!response.ok) throw new Error(`the upload failed: ${response.status} ${(await response.text()).slice(0, 300)}`);
  return response.headers.get("etag") ?? "";
}

/** `length` bytes of a file from `start` (fewer at its end). */
async function readRange(path: string, start: number, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(path, { start, end: start + length - 1 })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** SHA-256 of a file, streamed. */
async function fileDigest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex").slice(0, 32);
}
