// npm run bench:export-api — an export package of BENCH_RECORDS records (default 1,000,000)
// through the API on the local runtime: the records synced into the integrated store (presigned
// upload, as bench:sync), a consumer granted `export`, POST /v1/exports, the Step Functions job
// writing the package to S3, the package downloaded through its link and verified against the
// platform's published keys; with the job's time, MB/s of payload and the peak memory of the
// function processes during the export. The bench holds neither the records nor the package:
// the batch file is written as a stream, the download streamed to a file and verified from it.
// It also measures the platform's work per record exported, for `npm run cost`, and saves it to
// .dscp/bench/export.json: from the export request to the job's end and the consumer's reading
// of its link (the sync before excluded, and the download after, which `npm run cost` adds as
// the one S3 GetObject it is).

import { createReadStream, createWriteStream, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { exportRoutes } from "../api/exports.ts";
import { generateIdentity } from "../client/identity-files.ts";
import { syntheticCitizens } from "../demo/population.ts";
import type { ExportJob } from "../domain/export/model.ts";
import { verifyPackage } from "../domain/export/verify.ts";
import { callsByOperation } from "../runtime/aws-calls.ts";
import { PROJECT_ROOT } from "../runtime/synth.ts";
import { drainQueues, logBytesBetween, windowOf, workBetween } from "./measure.ts";
import {
  descendants,
  ownPeak,
  ownRss,
  POPULATION_REGISTER,
  peakMemory,
  publishPopulationRegister,
  resetPeaks,
  startBenchPlatform,
  syncBatchFile,
  writeBatchFile,
} from "./platform.ts";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const FIELDS = ["personalId", "fullName", "birthDate", "province"];
const bench = await startBenchPlatform("bench-export-api");
const { runtime, workDir } = bench;
const mib = (kib: number) => Math.round(kib / 1024);
const note = (message: string) => process.stderr.write(`[bench:export-api] ${message}\n`);

let completed = false;

type ExportStatus = ExportJob & { download?: { url: string; expiresAt: string } };

try {
  // The provider's records, synced into the integrated store.
  const provider = await publishPopulationRegister(bench, ["integrated", "export"]);
  const dataset = POPULATION_REGISTER;
  const file = join(workDir, "batch.ndjson");
  const fileBytes = await writeBatchFile(file, syntheticCitizens(RECORDS, 99));
  note(`syncing ${RECORDS} records (${(fileBytes / 1_000_000).toFixed(1)} MB)`);
  const sync = await syncBatchFile(bench, provider, dataset, "bench-export-batch-1", file);
  if (sync.batch.state !== "completed") throw new Error(`the batch ended ${JSON.stringify(sync.batch)}`);
  const syncPeak = peakMemory();
  note(`synced ${sync.batch.applied} in ${sync.seconds.toFixed(1)} s`);

  // A provincial portal granted `export` of four fields, by the provider.
  const consumer = await generateIdentity("HCM.PORTAL", "ES256");
  await bench.admin.registerAgency({ code: "HCM", name: "UBND Thành phố Hồ Chí Minh", level: "provincial" });
  await bench.admin.registerSystem("HCM", {
    id: consumer.systemId,
    name: "Public service portal",
    capabilities: ["consumer"],
    keys: [{ kid: consumer.kid, jwk: consumer.publicJwk as never }],
  });
  const request = await bench.client(consumer).requestAccess({
    datasetId: dataset,
    fields: FIELDS,
    purpose: "Hand the register to the provincial archive on media",
    purposeClass: "state-management",
    methods: ["export"],
    validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    legalBasis: "Decree, Art. 7.2d",
  });
  await bench.client(provider).decide(request.id, { decision: "approve", reason: "Within the archive's functions" });

  // The export, followed to its end, with the function processes' memory read every half second.
  // The measured window starts with every queue drained (the sync's log entries appended).
  const logDir = join(workDir, "data", "logs");
  await drainQueues(runtime.clients.sqs);
  const before = windowOf(runtime, logDir);
  const transitionsBefore = runtime.stepFunctions.stateTransitions();
  let apiRequests = 0;
  const reset = resetPeaks();
  const sampled = { functionsRss: 0, largestFunctionRss: 0, runtimeRss: 0, runtimeHeap: 0 };
  const sample = () => {
    const functions = descendants().filter((child) => child.functionName);
    sampled.functionsRss = Math.max(
      sampled.functionsRss,
      functions.reduce((sum, child) => sum + child.rss, 0),
    );
    sampled.largestFunctionRss = Math.max(sampled.largestFunctionRss, ...functions.map((child) => child.rss));
    sampled.runtimeRss = Math.max(sampled.runtimeRss, ownRss());
    const { heapUsed, external } = process.memoryUsage();
    sampled.runtimeHeap = Math.max(sampled.runtimeHeap, (heapUsed + external) / 1024);
  };
  const sampler = setInterval(sample, 500);
  const started = performance.now();
  let job: ExportStatus;
  try {
    const begun: ExportStatus = await bench
      .client(consumer)
      .invoke(exportRoutes.startExport, { body: { datasetId: dataset } });
    apiRequests += 1;
    // The job's execution is awaited in the runtime, the export's state read as a consumer would:
    // every 30 s while it runs, and once when it ended (for its link), so the window holds few
    // requests of the consumer's own.
    const execution = runtime.stepFunctions
      .list()
      .flatMap((machine) => runtime.stepFunctions.listExecutions(machine.arn))
      .find((record) => (JSON.parse(record.input) as { exportId?: string }).exportId === begun.exportId);
    if (!execution) throw new Error(`no job execution for export ${begun.exportId}`);
    for (;;) {
      await Promise.race([execution.done, new Promise((resolve) => setTimeout(resolve, 30_000))]);
      job = await bench.client(consumer).invoke(exportRoutes.getExport, { path: { exportId: begun.exportId } });
      apiRequests += 1;
      if (job.state !== "running") break;
      if (execution.status !== "RUNNING")
        throw new Error(
          `the job's execution ended ${execution.status} (${execution.cause ?? "no cause"}), the export still running`,
        );
      note(`export: ${job.progress} records after ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
    sample();
  } finally {
    clearInterval(sampler);
  }
  const polledSeconds = (performance.now() - started) / 1000;
  // The window ends once the log entries sent in it are appended.
  await drainQueues(runtime.clients.sqs);
  const after = windowOf(runtime, logDir);
  const transitionsAfter = runtime.stepFunctions.stateTransitions();
  const processes = descendants();
  const jobFunction = runtime.lambdas.list().find((definition) => /ExportJobFunction/.test(definition.logicalId))?.name;
  const jobProcesses = processes.filter((child) => child.functionName === jobFunction);
  const syncReport = {
    fileMB: Number((fileBytes / 1_000_000).toFixed(1)),
    state: sync.batch.state,
    applied: sync.batch.applied,
    rejected: sync.batch.rejected,
    seconds: Number(sync.seconds.toFixed(1)),
    recordsPerSecond: Math.round(sync.batch.applied / sync.seconds),
    peakMemoryMiB: syncPeak,
  };
  // Peak resident sets (MiB): of the job's function process (it starts with the export), of
  // every function process since the export started (peaks reset then), their sum and the
  // largest one as sampled every 0.5 s, and of this process (emulators, gateway, bench), with
  // how much of it is JavaScript heap and external buffers (the rest is native: LevelDB, malloc).
  const memoryReport = {
    jobProcess: mib(Math.max(0, ...jobProcesses.map((child) => child.peak))),
    jobProcesses: jobProcesses.length,
    functionProcessPeak: mib(Math.max(0, ...processes.map((child) => child.peak))),
    peaksReset: reset,
    byFunction: byFunction(processes),
    sampledLargestFunctionRss: mib(sampled.largestFunctionRss),
    sampledFunctionsRssSum: mib(sampled.functionsRss),
    sampledRuntimeRss: mib(sampled.runtimeRss),
    sampledRuntimeHeapAndExternal: mib(sampled.runtimeHeap),
    runtimeProcessPeakSinceStart: mib(ownPeak()),
  };
  const jobSeconds = job.completedAt ? (Date.parse(job.completedAt) - Date.parse(job.createdAt)) / 1000 : undefined;
  if (job.state !== "completed" || !job.download || jobSeconds === undefined) {
    // What the job got to, and why it stopped (the function's log is in data/logs/).
    process.stdout.write(
      `${JSON.stringify(
        {
          records: RECORDS,
          sync: syncReport,
          export: {
            state: job.state,
            failure: job.failure,
            progress: job.progress,
            ...(jobSeconds !== undefined ? { jobSeconds: Number(jobSeconds.toFixed(1)) } : {}),
            polledSeconds: Number(polledSeconds.toFixed(1)),
          },
          exportMemoryMiB: memoryReport,
        },
        null,
        2,
      )}\n`,
    );
    process.exitCode = 1;
    throw new Error(`the export ended ${job.state}: ${job.failure ?? "(no reason given)"}`);
  }

  // The package, downloaded to a file and verified from it.
  const packagePath = join(workDir, "package.tar.gz");
  const downloadStarted = performance.now();
  const response = await fetch(job.download.url);
  if (!response.ok || !response.body) throw new Error(`the download failed: ${response.status}`);
  await pipeline(Readable.fromWeb(response.body as never), createWriteStream(packagePath));
  const downloadSeconds = (performance.now() - downloadStarted) / 1000;
  const verifyStarted = performance.now();
  const verdict = await verifyPackage(createReadStream(packagePath), (await bench.client().platformKeys()).keys);
  const verifySeconds = (performance.now() - verifyStarted) / 1000;

  const payloadBytes = verdict.manifest?.files.reduce((sum, entry) => sum + entry.bytes, 0) ?? 0;
  const mb = payloadBytes / 1_000_000;
  const measured = perRecordExported(job.archive?.records ?? 0, job.archive?.bytes ?? 0);
  if (verdict.valid) {
    mkdirSync(join(PROJECT_ROOT, ".dscp", "bench"), { recursive: true });
    writeFileSync(join(PROJECT_ROOT, ".dscp", "bench", "export.json"), `${JSON.stringify(measured, null, 2)}\n`);
  } else {
    note("the package did not verify: .dscp/bench/export.json left as it was");
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        records: RECORDS,
        sync: syncReport,
        export: {
          state: job.state,
          exported: verdict.manifest?.records.exported,
          withheld: verdict.manifest?.records.withheld,
          jobRecords: job.archive?.records,
          fields: job.fields,
          dataFiles: verdict.manifest?.files.length,
          payloadMB: Number(mb.toFixed(1)),
          archiveMB: Number(((job.archive?.bytes ?? 0) / 1_000_000).toFixed(1)),
          downloadedMB: Number((statSync(packagePath).size / 1_000_000).toFixed(1)),
          sameArchiveBytes: statSync(packagePath).size === job.archive?.bytes,
          jobSeconds: Number(jobSeconds.toFixed(1)),
          polledSeconds: Number(polledSeconds.toFixed(1)),
          MBps: Number((mb / jobSeconds).toFixed(2)),
          recordsPerSecond: Math.round((verdict.manifest?.records.exported ?? 0) / jobSeconds),
          downloadSeconds: Number(downloadSeconds.toFixed(1)),
          verifySeconds: Number(verifySeconds.toFixed(1)),
          verified: verdict.valid,
          ...(verdict.valid ? {} : { problems: verdict.problems.slice(0, 10) }),
        },
        exportMemoryMiB: memoryReport,
        measuredAt: measured.measuredAt,
        apiRequestsPerRecord: measured.apiRequestsPerRecord,
        invocationsPerRecord: measured.invocationsPerRecord,
        awsCallsPerRecord: measured.awsCallsPerRecord,
        stateTransitionsPerRecord: measured.stateTransitionsPerRecord,
        logBytesPerRecord: measured.logBytesPerRecord,
        packageBytesPerRecord: measured.packageBytesPerRecord,
      },
      null,
      2,
    )}\n`,
  );
  completed = true;

  /**
   * The window's work per record exported, as bench:sync measures it per record synced: the
   * functions' invocations and CPU, the AWS calls they and the state machine made (the
   * runtime's and this benchmark's own not counted), state transitions, log bytes; with the
   * consumer's API requests and the package's size.
   */
  function perRecordExported(records: number, packageBytes: number) {
    // Per record, to four significant digits (most figures are small fractions).
    const perRecord = (value: number) => Number((value / records).toPrecision(4));
    const { functions, calls } = workBetween(before, after, perRecord);
    const perOperation = (counts: Record<string, number>) =>
      Object.fromEntries(Object.entries(counts).map(([operation, count]) => [operation, perRecord(count)]));
    const transitions = Object.entries(transitionsAfter).reduce(
      (sum, [machine, count]) => sum + count - (transitionsBefore[machine] ?? 0),
      0,
    );
    return {
      records,
      measuredAt: new Date().toISOString(),
      apiRequestsPerRecord: perRecord(apiRequests),
      invocationsPerRecord: functions,
      awsCallsPerRecord: perOperation(callsByOperation(calls)),
      awsCallsPerRecordByCaller: Object.fromEntries(
        Object.entries(calls).map(([caller, byOperation]) => [caller, perOperation(byOperation)]),
      ),
      stateTransitionsPerRecord: perRecord(transitions),
      logBytesPerRecord: perRecord(logBytesBetween(before, after)),
      packageBytesPerRecord: perRecord(packageBytes),
    };
  }
} finally {
  await runtime.stop();
}
// The emulators' data (17 GB of LevelDB files after a 1,000,000-record run) and the
// files go once the run succeeded; the logs stay. A failed run keeps everything to look at.
if (completed) {
  for (const path of ["data/dynamodb", "data/s3", "batch.ndjson", "package.tar.gz"]) {
    rmSync(join(workDir, path), { recursive: true, force: true });
  }
}

/** The largest peak resident set (MiB) of each function's processes, largest first, by logical id. */
function byFunction(processes: ReturnType<typeof descendants>): Record<string, number> {
  const peaks = new Map<string, number>();
  for (const child of processes) {
    if (!child.functionName) continue;
    const name = runtime.lambdas.find(child.functionName)?.logicalId ?? child.functionName;
    peaks.set(name, Math.max(peaks.get(name) ?? 0, mib(child.peak)));
  }
  return Object.fromEntries([...peaks].sort((a, b) => b[1] - a[1]));
}
