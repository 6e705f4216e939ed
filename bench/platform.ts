// What the benches that go through the platform on the local runtime share: the runtime started
// from a fresh synth with the operator bootstrapped, MPS and its population register published,
// a batch file written and uploaded through the presigned upload and waited for, and the memory
// of the function processes read from /proc.

import { once } from "node:events";
import { createWriteStream, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { dictionaryRoutes } from "../api/dictionary.ts";
import { syncRoutes } from "../api/sync.ts";
import { bootstrapOperator } from "../client/bootstrap.ts";
import { DscpClient } from "../client/dscp-client.ts";
import { generateIdentity, type IdentityFile } from "../client/identity-files.ts";
import { platformOutputs } from "../client/outputs.ts";
import { dictionarySample, loadDictionarySample } from "../demo/dictionary.ts";
import type { Citizen } from "../demo/population.ts";
import type { SharingMethod } from "../domain/catalog/model.ts";
import { type LocalRuntime, startLocalRuntime } from "../runtime/local-runtime.ts";
import { PROJECT_ROOT, synthesize } from "../runtime/synth.ts";

export interface BenchPlatform {
  readonly runtime: LocalRuntime;
  /** `.dscp/<name>`: the assembly, the emulators' data, keys and the bench's files. */
  readonly workDir: string;
  /** A client signing as `identity` (none: unsigned). */
  client(identity?: IdentityFile): DscpClient;
  /** The operator's client. */
  readonly admin: DscpClient;
}

/**
 * The local runtime from a fresh synth into `.dscp/<name>`, with the operator bootstrapped;
 * `maxConcurrency`: environments per function (the runtime's default unless said).
 */
export async function startBenchPlatform(
  name: string,
  options: { maxConcurrency?: number; context?: Record<string, string> } = {},
): Promise<BenchPlatform> {
  const workDir = join(PROJECT_ROOT, ".dscp", name);
  const assemblyDir = join(workDir, "cdk.out");
  await synthesize({ outdir: assemblyDir, quiet: true, ...(options.context ? { context: options.context } : {}) });
  const runtime = await startLocalRuntime({
    assemblyDir,
    dataDir: join(workDir, "data"),
    fresh: true,
    ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}),
  });
  const outputs = platformOutputs(runtime.outputs);
  const { identity: operatorIdentity } = await bootstrapOperator(join(workDir, "keys"), (payload) =>
    runtime.lambdas.invoke(String(outputs.BootstrapFunctionName), payload),
  );
  const client = (identity?: IdentityFile) =>
    new DscpClient({
      baseUrl: String(outputs.ApiUrl),
      audience: String(outputs.PlatformAudience),
      ...(identity ? { identity } : {}),
    });
  return { runtime, workDir, client, admin: client(operatorIdentity) };
}

export const POPULATION_REGISTER = "MPS.POPULATION.REGISTER";
export const CITIZEN_FIELDS = ["personalId", "fullName", "birthDate", "gender", "province", "ethnicity"] as const;

/**
 * MPS and its provider system registered, the dictionary sample and the citizen schema loaded,
 * and MPS.POPULATION.REGISTER published with `methods`; returns the provider's identity.
 */
export async function publishPopulationRegister(
  platform: BenchPlatform,
  methods: readonly SharingMethod[],
): Promise<IdentityFile> {
  const { admin, client } = platform;
  const provider = await generateIdentity("MPS.POPULATION");
  await admin.registerAgency({ code: "MPS", name: "Bộ Công an", level: "central" });
  await admin.registerSystem("MPS", {
    id: provider.systemId,
    name: "Population",
    capabilities: ["provider"],
    keys: [{ kid: provider.kid, jwk: provider.publicJwk as never }],
  });
  await loadDictionarySample(admin);
  await client(provider).invoke(dictionaryRoutes.publishSchemaVersion, {
    body: dictionarySample("citizen-schema.json"),
  });
  await client(provider).publishDataset({
    id: POPULATION_REGISTER,
    providerSystem: provider.systemId,
    title: "Dân cư",
    description: "Synthetic citizens",
    scope: "Citizens",
    qualityStatement: "Synthetic",
    accessConditions: "State agencies",
    classification: "restricted",
    methods: [...methods],
    schema: { id: "MPS.CITIZEN", version: "1.0.0" },
    keyFields: ["personalId"],
    fields: CITIZEN_FIELDS.map((name) => ({ name, type: "string" as const, personal: true })),
  });
  return provider;
}

/** Writes an upsert of each citizen to an NDJSON file as a stream (about 1 MiB held at a time); returns its size. */
export async function writeBatchFile(file: string, citizens: Iterable<Citizen>): Promise<number> {
  const out = createWriteStream(file);
  let pending = "";
  for (const record of citizens) {
    pending += `${JSON.stringify({ op: "upsert", record })}\n`;
    if (pending.length >= 1_048_576) {
      const flushed = out.write(pending);
      pending = "";
      if (!flushed) await once(out, "drain");
    }
  }
  await new Promise((resolve) => out.end(pending, () => resolve(undefined)));
  return statSync(file).size;
}

export interface BatchStatus {
  readonly state: string;
  readonly applied: number;
  readonly rejected: number;
  readonly chunks: number;
}

/**
 * Uploads `file` as batch `batchId` of `dataset` through the presigned upload, completes it and
 * waits until it is no longer processing; `seconds` runs from completing the upload to that.
 */
export async function syncBatchFile(
  platform: BenchPlatform,
  provider: IdentityFile,
  dataset: string,
  batchId: string,
  file: string,
): Promise<{ batch: BatchStatus; seconds: number }> {
  const as = platform.client(provider);
  const opened: { upload: { url: string } } = await as.invoke(syncRoutes.startUpload, {
    path: { datasetId: dataset },
    body: { batchId },
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
    await multipartUpload(platform.runtime, file, new URL(opened.upload.url));
  }
  const started = performance.now();
  await as.invoke(syncRoutes.completeUpload, { path: { batchId } });
  let batch: BatchStatus;
  for (;;) {
    batch = await as.invoke(syncRoutes.getBatch, { path: { batchId } });
    if (batch.state !== "processing") break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { batch, seconds: (performance.now() - started) / 1000 };
}

const PART_BYTES = 8 * 1_048_576;

/** Uploads a file in 8 MiB parts, read one at a time, to the bucket and key a presigned URL names (path-style). */
async function multipartUpload(runtime: LocalRuntime, file: string, url: URL): Promise<void> {
  const [, bucket = "", ...rest] = decodeURIComponent(url.pathname).split("/");
  const key = rest.join("/");
  const s3 = runtime.clients.s3;
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts: { ETag?: string; PartNumber: number }[] = [];
  const handle = await open(file, "r");
  try {
    const size = (await handle.stat()).size;
    for (let offset = 0, part = 1; offset < size; offset += PART_BYTES, part++) {
      const buffer = Buffer.alloc(Math.min(PART_BYTES, size - offset));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      const { ETag } = await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: part,
          Body: buffer.subarray(0, bytesRead),
        }),
      );
      parts.push({ ETag, PartNumber: part });
    }
  } finally {
    await handle.close();
  }
  await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
  );
}

/** A process under this one, as /proc shows it (sizes in KiB). */
export interface ProcessMemory {
  readonly pid: number;
  /** The function it runs (AWS_LAMBDA_FUNCTION_NAME), if it is a function process. */
  readonly functionName?: string;
  /** Resident set now (VmRSS) and its peak (VmHWM, since start or since `resetPeaks`). */
  readonly rss: number;
  readonly peak: number;
}

/** This process's descendants (the function processes, and any other child), with their memory. */
export function descendants(): ProcessMemory[] {
  const children = new Map<number, number[]>();
  const statuses = new Map<number, string>();
  for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      const parent = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
      statuses.set(Number(entry), status);
    } catch {
      // The process ended while being read.
    }
  }
  const found: ProcessMemory[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      const status = statuses.get(child) ?? "";
      const functionName = functionOf(child);
      found.push({
        pid: child,
        ...(functionName ? { functionName } : {}),
        rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
        peak: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0),
      });
      visit(child);
    }
  };
  visit(process.pid);
  return found;
}

const functionNames = new Map<number, string | undefined>();
function functionOf(pid: number): string | undefined {
  if (!functionNames.has(pid)) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\u0000");
      const entry = environ.find((variable) => variable.startsWith("AWS_LAMBDA_FUNCTION_NAME="));
      functionNames.set(pid, entry?.slice("AWS_LAMBDA_FUNCTION_NAME=".length));
    } catch {
      return undefined;
    }
  }
  return functionNames.get(pid);
}

/**
 * Resets the peak resident set (VmHWM) of this process's descendants to their current size
 * (`echo 5 > /proc/<pid>/clear_refs`), so a later reading covers what came after; returns how many were reset.
 */
export function resetPeaks(): number {
  let reset = 0;
  for (const { pid } of descendants()) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
      reset++;
    } catch {
      // Gone, or not permitted: its peak then covers its whole life.
    }
  }
  return reset;
}

/** The largest peak resident set (VmHWM) among this process's descendants (the function processes), and this process's own. */
export function peakMemory(): { functionProcess: number; runtimeProcess: number } {
  const largest = Math.max(0, ...descendants().map((child) => child.peak));
  return {
    functionProcess: Math.round(largest / 1024),
    runtimeProcess: Math.round(ownPeak() / 1024),
  };
}

/** This process's peak resident set (VmHWM), in KiB. */
export function ownPeak(): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);
}

/** This process's resident set now (VmRSS), in KiB. */
export function ownRss(): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);
}
