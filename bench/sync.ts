// npm run bench:sync — an uploaded batch applied to the integrated store through the platform
// (presigned upload, Step Functions: stream, validate, partition, apply four partitions at a
// time) against raw BatchWriteItem of the same records into the same emulator, in one run;
// with the peak memory of the function processes. BENCH_RECORDS sets the size (default 20,000).
import { createWriteStream, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { BatchWriteItemCommand, type WriteRequest } from "@aws-sdk/client-dynamodb";
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { marshall } from "@aws-sdk/util-dynamodb";
import { bootstrapOperator } from "../client/bootstrap.ts";
import { DscpClient } from "../client/dscp-client.ts";
import { generateIdentity, type IdentityFile } from "../client/identity-files.ts";
import { dictionarySample, loadDictionarySample } from "../demo/dictionary.ts";
import { syntheticPopulation } from "../demo/population.ts";
import { startLocalRuntime } from "../runtime/local-runtime.ts";
import { PROJECT_ROOT, synthesize } from "../runtime/synth.ts";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 20_000);
const workDir = join(PROJECT_ROOT, ".dscp", "bench-sync");
const assemblyDir = join(workDir, "cdk.out");
await synthesize({ outdir: assemblyDir, quiet: true });
const runtime = await startLocalRuntime({ assemblyDir, dataDir: join(workDir, "data"), fresh: true });
const outputs = Object.values(runtime.outputs).find((candidate) => candidate.ApiUrl) as Record<string, string>;
const { identity: operatorIdentity } = await bootstrapOperator(join(workDir, "keys"), (payload) =>
  runtime.lambdas.invoke(String(outputs.BootstrapFunctionName), payload),
);
const client = (identity: IdentityFile) =>
  new DscpClient({ baseUrl: String(outputs.ApiUrl), audience: String(outputs.PlatformAudience), identity });

try {
  const admin = client(operatorIdentity);
  const provider = await generateIdentity("MPS.POPULATION");
  await admin.registerAgency({ code: "MPS", name: "Bộ Công an", level: "central" });
  await admin.registerSystem("MPS", {
    id: provider.systemId,
    name: "Population",
    capabilities: ["provider"],
    keys: [{ kid: provider.kid, jwk: provider.publicJwk as never }],
  });
  await loadDictionarySample(admin);
  await client(provider).call("POST", "/v1/dictionary/schemas", { body: dictionarySample("citizen-schema.json") });
  const dataset = "MPS.POPULATION.REGISTER";
  await client(provider).publishDataset({
    id: dataset,
    providerSystem: provider.systemId,
    title: "Dân cư",
    description: "Synthetic citizens",
    scope: "Citizens",
    qualityStatement: "Synthetic",
    accessConditions: "State agencies",
    classification: "restricted",
    methods: ["integrated"],
    schema: { id: "MPS.CITIZEN", version: "1.0.0" },
    keyFields: ["personalId"],
    fields: ["personalId", "fullName", "birthDate", "gender", "province", "ethnicity"].map((name) => ({
      name,
      type: "string" as const,
      personal: true,
    })),
  });

  // The file, written as a stream: the same records for both paths.
  const population = syntheticPopulation(RECORDS, 99);
  const file = join(workDir, "batch.ndjson");
  const out = createWriteStream(file);
  for (const record of population) out.write(`${JSON.stringify({ op: "upsert", record })}\n`);
  await new Promise((resolve) => out.end(resolve));

  const opened = await client(provider).call<{ upload: { url: string } }>("POST", `/v1/sync/${dataset}/uploads`, {
    body: { batchId: "bench-sync-batch-1" },
  });
  // A file above the local S3 emulator's 11 MiB request limit goes up in 8 MiB parts (multipart),
  // straight into the object the presigned URL names; below it, through the URL as agencies do.
  const size = statSync(file).size;
  if (size <= 10 * 1_048_576) {
    const put = await fetch(opened.upload.url, {
      method: "PUT",
      headers: { "Content-Type": "application/x-ndjson" },
      body: readFileSync(file),
    });
    if (!put.ok) throw new Error(`the upload failed: ${put.status} ${(await put.text()).slice(0, 500)}`);
  } else {
    await multipartUpload(file, new URL(opened.upload.url));
  }
  const started = performance.now();
  await client(provider).call("POST", "/v1/sync/batches/bench-sync-batch-1/complete");
  let batch: { state: string; applied: number; rejected: number; chunks: number };
  for (;;) {
    batch = await client(provider).call("GET", "/v1/sync/batches/bench-sync-batch-1");
    if (batch.state !== "processing") break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const platformSeconds = (performance.now() - started) / 1000;

  // Raw BatchWriteItem of the same records into the same table, four writers at a time, as the
  // items the store keeps (index keys included, so the emulator maintains the same index), under
  // another dataset id so they land beside the platform's.
  const table = String(runtime.resource("Dscp-local", "DataStores/IntegratedTable/Resource")?.ref);
  const rawStarted = performance.now();
  let next = 0;
  const writer = async () => {
    for (;;) {
      const start = next;
      next += 25;
      if (start >= population.length) return;
      let pending: WriteRequest[] = population.slice(start, start + 25).map((record) => ({
        PutRequest: {
          Item: marshall({
            pk: `RAW.${dataset}#${record.personalId}`,
            sk: "CURRENT",
            gsi1pk: `RAW.${dataset}`,
            gsi1sk: record.personalId,
            datasetId: `RAW.${dataset}`,
            key: record.personalId,
            record,
            version: 1,
            deleted: false,
            sourceBatch: "raw",
            updatedAt: new Date().toISOString(),
            lastOp: `raw#${start}`,
          }),
        },
      }));
      while (pending.length > 0) {
        const { UnprocessedItems } = await runtime.clients.dynamodb.send(
          new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
        );
        pending = UnprocessedItems?.[table] ?? [];
      }
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
  const rawSeconds = (performance.now() - rawStarted) / 1000;

  const platform = Math.round(batch.applied / platformSeconds);
  const raw = Math.round(RECORDS / rawSeconds);
  process.stdout.write(
    `${JSON.stringify(
      {
        records: RECORDS,
        fileBytes: statSync(file).size,
        batch: { state: batch.state, applied: batch.applied, rejected: batch.rejected, partitions: batch.chunks },
        platform: { recordsPerSecond: platform, seconds: Number(platformSeconds.toFixed(1)) },
        rawBatchWriteItem: { recordsPerSecond: raw, seconds: Number(rawSeconds.toFixed(1)) },
        ratio: Number((platform / raw).toFixed(3)),
        peakMemoryMiB: peakMemory(),
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await runtime.stop();
}

/** Uploads a file in 8 MiB parts to the bucket and key a presigned URL names (path-style). */
async function multipartUpload(file: string, url: URL): Promise<void> {
  const [, bucket = "", ...rest] = decodeURIComponent(url.pathname).split("/");
  const key = rest.join("/");
  const s3 = runtime.clients.s3;
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts: { ETag?: string; PartNumber: number }[] = [];
  const content = readFileSync(file);
  for (let offset = 0, part = 1; offset < content.length; offset += 8 * 1_048_576, part++) {
    const { ETag } = await s3.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: part,
        Body: content.subarray(offset, offset + 8 * 1_048_576),
      }),
    );
    parts.push({ ETag, PartNumber: part });
  }
  await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
  );
}

/** The largest peak resident set (VmHWM) among this process's descendants (the function processes), and this process's own. */
function peakMemory(): { functionProcess: number; runtimeProcess: number } {
  const children = new Map<number, number[]>();
  const peaks = new Map<number, number>();
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const parent = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
      peaks.set(Number(entry), Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    } catch {
      // The process ended while being read.
    }
  }
  let largest = 0;
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      largest = Math.max(largest, peaks.get(child) ?? 0);
      visit(child);
    }
  };
  visit(process.pid);
  return {
    functionProcess: Math.round(largest / 1024),
    runtimeProcess: Math.round((peaks.get(process.pid) ?? 0) / 1024),
  };
}
