// npm run bench:audit — a data audit (Art. 14) of BENCH_RECORDS records (default 1,000,000):
// completeness, validity, timeliness and both duplicate checks in one pass, records per second
// against validating the same records alone (the audit's least cost), with the peak memory of
// the process while it runs. Records are generated as they are read, as the store's pages
// would arrive, so what the audit keeps is all that grows. Printed as JSON.
import { performance } from "node:perf_hooks";
import { citizenJsonSchema } from "../demo/dictionary.ts";
import { syntheticPopulation } from "../demo/population.ts";
import type { Dataset } from "../domain/catalog/model.ts";
import { RecordValidator } from "../domain/dictionary/validator.ts";
import { auditDataset } from "../domain/oversight/audit.ts";
import type { StoredRecord } from "../domain/sync/model.ts";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const PAGE = 10_000;
const NOW = new Date();
const schema = citizenJsonSchema();
const check = new RecordValidator().check(schema);

/** The records, a page of synthetic citizens at a time; one in 100 lacks a field, one in 500 is stale, one in 1,000 repeats a key. */
async function* records(): AsyncGenerator<StoredRecord> {
  const fresh = NOW.toISOString();
  const old = new Date(NOW.getTime() - 2 * 365 * 86_400_000).toISOString();
  for (let start = 0; start < RECORDS; start += PAGE) {
    const page = syntheticPopulation(Math.min(PAGE, RECORDS - start), 1000 + start / PAGE);
    for (const [offset, citizen] of page.entries()) {
      const index = start + offset;
      const personalId = `${String(index).padStart(12, "0")}`;
      const record: Record<string, unknown> = { ...citizen, personalId };
      if (index % 100 === 7) delete record.fullName;
      const key = index % 1000 === 9 ? `${String(index - 1).padStart(12, "0")}-` : personalId;
      yield {
        datasetId: "MPS.POPULATION.REGISTER",
        key,
        record: { ...record, personalId: key },
        version: 1,
        deleted: false,
        sourceBatch: "bench",
        updatedAt: index % 500 === 3 ? old : fresh,
      };
    }
  }
}

const dataset = {
  id: "MPS.POPULATION.REGISTER",
  managingAgency: "MPS",
  updateFrequency: "P1D",
  schema: { id: "MPS.CITIZEN", version: "1.0.0" },
  keyFields: ["personalId"],
  fields: ["personalId", "fullName", "birthDate", "gender", "province", "ethnicity"].map((name) => ({
    name,
    type: "string",
    personal: true,
  })),
} as unknown as Dataset;

let peak = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 50);

async function* none() {}

// Baseline: the same records generated and validated, nothing else.
let started = performance.now();
let invalid = 0;
for await (const stored of records()) if (check(stored.record).length > 0) invalid++;
const baselineSeconds = (performance.now() - started) / 1000;
const baselinePeak = peak;

peak = process.memoryUsage().rss;
started = performance.now();
const report = await auditDataset({
  dataset,
  schema: { document: schema, check },
  records: records(),
  permissions: [],
  entries: none(),
  staleAfter: "P365D",
  accessWindow: "P90D",
  now: NOW,
});
const auditSeconds = (performance.now() - started) / 1000;
clearInterval(sampler);

process.stdout.write(
  `${JSON.stringify(
    {
      records: RECORDS,
      audit: {
        recordsPerSecond: Math.round(RECORDS / auditSeconds),
        seconds: Math.round(auditSeconds * 10) / 10,
        peakRssMiB: Math.round(peak / 1048576),
      },
      validationAlone: {
        recordsPerSecond: Math.round(RECORDS / baselineSeconds),
        invalid,
        peakRssMiB: Math.round(baselinePeak / 1048576),
      },
      ratio: Math.round((baselineSeconds / auditSeconds) * 1000) / 1000,
      found: {
        incomplete: RECORDS - report.completeness.recordsComplete,
        invalid: report.validity.invalid,
        stale: report.timeliness.staleRecords,
        keyDuplicates: report.duplicates.keyRecords,
        nearIdentical: report.duplicates.nearIdenticalRecords,
      },
    },
    null,
    2,
  )}\n`,
);
