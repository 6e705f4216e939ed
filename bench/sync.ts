// npm run bench:sync — an uploaded batch applied to the integrated store through the platform
// (presigned upload, Step Functions: stream, validate, partition, apply four partitions at a
// time) against raw BatchWriteItem of the same records into the same emulator, in one run;
// with the peak memory of the function processes. BENCH_RECORDS sets the size (default 20,000).
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { BatchWriteItemCommand, type WriteRequest } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { syntheticPopulation } from "../demo/population.ts";
import { callsByOperation } from "../runtime/aws-calls.ts";
import { PROJECT_ROOT } from "../runtime/synth.ts";
import { drainQueues, logBytesBetween, windowOf, workBetween } from "./measure.ts";
import {
  POPULATION_REGISTER,
  peakMemory,
  publishPopulationRegister,
  startBenchPlatform,
  syncBatchFile,
  writeBatchFile,
} from "./platform.ts";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 20_000);
const bench = await startBenchPlatform("bench-sync");
const { runtime, workDir } = bench;

try {
  const provider = await publishPopulationRegister(bench, ["integrated"]);
  const dataset = POPULATION_REGISTER;

  // The file, written as a stream: the same records for both paths.
  const population = syntheticPopulation(RECORDS, 99);
  const file = join(workDir, "batch.ndjson");
  await writeBatchFile(file, population);
  const logDir = join(workDir, "data", "logs");
  await drainQueues(runtime.clients.sqs);
  const before = windowOf(runtime, logDir);
  const { batch, seconds: platformSeconds } = await syncBatchFile(bench, provider, dataset, "bench-sync-batch-1", file);
  await drainQueues(runtime.clients.sqs);
  const after = windowOf(runtime, logDir);
  // Per record, to four significant digits (most figures are small fractions).
  const perRecord = (value: number) => Number((value / RECORDS).toPrecision(4));
  const { functions, calls } = workBetween(before, after, perRecord);
  // Per record synced, as bench:exchange counts per exchange, for `npm run cost`; the
  // benchmark's own calls (its upload, its status polls) are not counted.
  const measured = {
    records: RECORDS,
    measuredAt: new Date().toISOString(),
    invocationsPerRecord: functions,
    awsCallsPerRecord: Object.fromEntries(
      Object.entries(callsByOperation(calls)).map(([operation, count]) => [operation, perRecord(count)]),
    ),
    logBytesPerRecord: perRecord(logBytesBetween(before, after)),
  };
  mkdirSync(join(PROJECT_ROOT, ".dscp", "bench"), { recursive: true });
  writeFileSync(join(PROJECT_ROOT, ".dscp", "bench", "sync.json"), `${JSON.stringify(measured, null, 2)}\n`);

  // Raw BatchWriteItem of the same records into the same table, four writers at a time, as the
  // items the store keeps (index keys included, so the emulator maintains the same index), under
  // another dataset id so they land beside the platform's.
  const table = String(runtime.resource("Dscp-local-Data", "DataStores/IntegratedTable/Resource")?.ref);
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
        measuredAt: measured.measuredAt,
        invocationsPerRecord: measured.invocationsPerRecord,
        awsCallsPerRecord: measured.awsCallsPerRecord,
        logBytesPerRecord: measured.logBytesPerRecord,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await runtime.stop();
}
