// npm run bench:export — an export package of BENCH_RECORDS records (default 1,000,000) written
// by the platform's package writer (validated against the schema, projected, staged in data
// files, hashed, tarred as a BagIt bag, gzipped, manifest signed) against plain gzip + SHA-256
// of the same payload bytes, in one run, both to files on the same disk; with the peak memory
// of the package path. Throughput counts the payload (the data files' bytes).
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { citizenJsonSchema } from "../demo/dictionary.ts";
import { syntheticCitizens } from "../demo/population.ts";
import { RecordValidator } from "../domain/dictionary/validator.ts";
import { writePackage } from "../domain/export/package.ts";
import { verifyPackage } from "../domain/export/verify.ts";
import { PROJECT_ROOT } from "../runtime/synth.ts";
import { exportSpecFixture, platformKeyFixture } from "../test/unit/domain/fixtures.ts";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const FIELDS = ["personalId", "fullName", "birthDate", "province"];
const workDir = join(PROJECT_ROOT, ".dscp", "bench-export");
rmSync(workDir, { recursive: true, force: true });
mkdirSync(workDir, { recursive: true });

// The platform signs with a KMS key; here an equivalent P-256 key in this process.
const key = platformKeyFixture("bench-key");

/** The records the export reads: 1,000 synthetic citizens over and over, each with its own id, so the source costs next to nothing. */
const POOL = [...syntheticCitizens(1000, 7)];
function record(index: number): Record<string, unknown> {
  const citizen = POOL[index % POOL.length] as (typeof POOL)[number];
  return { ...citizen, personalId: `${citizen.personalId.slice(0, 6)}${String(index).padStart(6, "0")}` };
}
async function* records(): AsyncGenerator<Readonly<Record<string, unknown>>> {
  for (let index = 0; index < RECORDS; index++) yield record(index);
}

const packagePath = join(workDir, "package.tar.gz");
const started = performance.now();
const manifest = await writePackage(
  exportSpecFixture({
    exportId: "EXP-BENCH",
    schema: { id: "MPS.CITIZEN", version: "1.0.0", jsonSchema: citizenJsonSchema() },
    fields: FIELDS,
    purpose: "Benchmark of the package writer",
  }),
  records(),
  createWriteStream(packagePath),
  { signer: key.signer, validator: new RecordValidator(), keyOf: (record) => String(record.personalId) },
);
const packageSeconds = (performance.now() - started) / 1000;
const packagePeakMiB = peakMiB();
const payloadBytes = manifest.files.reduce((sum, file) => sum + file.bytes, 0);

// The same payload bytes, as one file (untimed), then gzip + SHA-256 of them (timed).
const payloadPath = join(workDir, "payload.ndjson");
const payload = createWriteStream(payloadPath);
for (let index = 0; index < RECORDS; index++) {
  const citizen = record(index);
  const line = `${JSON.stringify(Object.fromEntries(FIELDS.map((field) => [field, citizen[field]])))}\n`;
  if (!payload.write(line)) await once(payload, "drain");
}
await new Promise((resolve) => payload.end(resolve));
const rawStarted = performance.now();
const digest = createHash("sha256");
await pipeline(
  createReadStream(payloadPath),
  async function* (source) {
    for await (const chunk of source) {
      digest.update(chunk as Buffer);
      yield chunk;
    }
  },
  createGzip({ level: 6 }),
  createWriteStream(join(workDir, "payload.ndjson.gz")),
);
const rawSeconds = (performance.now() - rawStarted) / 1000;

const verdict = await verifyPackage(createReadStream(packagePath), [key.jwk]);
const mb = payloadBytes / 1_000_000;
process.stdout.write(
  `${JSON.stringify(
    {
      records: RECORDS,
      exported: manifest.records.exported,
      withheld: manifest.records.withheld,
      payloadMB: Number(mb.toFixed(1)),
      dataFiles: manifest.files.length,
      archiveMB: Number((statSync(packagePath).size / 1_000_000).toFixed(1)),
      sameBytes: statSync(payloadPath).size === payloadBytes,
      package: { MBps: Number((mb / packageSeconds).toFixed(1)), seconds: Number(packageSeconds.toFixed(1)) },
      gzipSha256: { MBps: Number((mb / rawSeconds).toFixed(1)), seconds: Number(rawSeconds.toFixed(1)) },
      ratio: Number((rawSeconds / packageSeconds).toFixed(3)),
      packagePeakMemoryMiB: packagePeakMiB,
      verified: verdict.valid,
    },
    null,
    2,
  )}\n`,
);
rmSync(workDir, { recursive: true, force: true });

/** This process's peak resident size so far (VmHWM), in MiB. */
function peakMiB(): number {
  const kib = Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);
  return Math.round(kib / 1024);
}
