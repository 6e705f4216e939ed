// npm run cost — dollars per million exchanges (and records synced / exported, where measured)
// on AWS in us-east-1, from the counts the benchmarks measured on the local runtime
// (.dscp/bench/*.json), the template's memory sizes and bench/prices.json. Prints JSON;
// `--readme` also rewrites the README's cost table between its markers.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stageConfig } from "../lib/stage.ts";
import { readAssembly } from "../runtime/assembly.ts";
import { PROJECT_ROOT } from "../runtime/synth.ts";
import {
  type CostBreakdown,
  costPerMillion,
  defaultSampledShare,
  type ExportResult,
  exportCounts,
  logIndexWriteUnits,
  type PriceTable,
  recordsLine,
  type WorkCounts,
} from "./cost-model.ts";

/** The stage the cost is of: what a national deployment runs. */
const PROD = stageConfig("prod");
/**
 * API Gateway execution log bytes per request at INFO (an estimate, not measured locally); prod
 * logs errors only, and the requests measured succeed.
 */
const EXECUTION_LOG_BYTES_PER_REQUEST = PROD.executionLogLevel === "INFO" ? 3000 : 0;
/** Lambda's platform records per invocation at INFO (START/END/REPORT lines, JSON): an estimate; none at WARN. */
const PLATFORM_LOG_BYTES_PER_INVOCATION = PROD.systemLogLevel === "INFO" ? 700 : 0;
/** Steady rate the X-Ray default sampling rule is applied at. */
const TRACED_RATE_PER_SECOND = 300;
/**
 * Bytes a state machine that logs every event (without execution data) writes per state
 * transition: about four and a half events of ~350 bytes (entered, exited, a task's scheduled,
 * started and succeeded, the execution's start and end shared out). An estimate.
 */
const STATE_MACHINE_LOG_BYTES_PER_TRANSITION = 1500;

const prices = JSON.parse(readFileSync(join(PROJECT_ROOT, "bench", "prices.json"), "utf8")) as PriceTable;
const resultsDir = join(PROJECT_ROOT, ".dscp", "bench");

/** The synthesized templates a benchmark ran (or `npm run synth` wrote). */
function assemblyStacks(): ReturnType<typeof readAssembly> {
  const candidates = [
    join(PROJECT_ROOT, ".dscp", "bench-exchange", "cdk.out"),
    join(PROJECT_ROOT, ".dscp", "bench-sync", "cdk.out"),
    join(PROJECT_ROOT, ".dscp", "bench-export-api", "cdk.out"),
    join(PROJECT_ROOT, "cdk.out"),
  ];
  const assemblyDir = candidates.find((dir) => existsSync(join(dir, "manifest.json")));
  if (!assemblyDir) throw new Error("no cloud assembly: run npm run bench:exchange (or npm run synth) first");
  return readAssembly(assemblyDir);
}

/** Memory size of every function in the synthesized templates, by logical id. */
function memorySizes(): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const stack of assemblyStacks()) {
    for (const [logicalId, resource] of Object.entries(stack.template.Resources)) {
      if (resource.Type !== "AWS::Lambda::Function") continue;
      sizes[logicalId] = Number(resource.Properties?.MemorySize ?? 128);
    }
  }
  return sizes;
}

interface ExchangeResult {
  readonly requests: number;
  readonly upstreamDelayMs: number;
  readonly measuredAt: string;
  readonly handlerCpuMsPerExchange: { readonly total: number; readonly byFunction: Record<string, number> };
  readonly invocationsPerExchange: Record<string, { readonly count: number; readonly ms: number }>;
  readonly awsCallsPerExchange: Record<string, number>;
  readonly awsCallsPerExchangeByCaller: Record<string, Record<string, number>>;
  readonly logBytesPerExchange: number;
}

/** Global secondary indexes of the log table (byConsumer, byProvider, byTime; projection ALL). */
const LOG_TABLE_INDEXES = 3;

/** One exchange as counted by bench:exchange, with what the local runtime cannot see added by estimate. */
function exchangeCounts(result: ExchangeResult): WorkCounts {
  const functions: Record<string, { invocations: number; cpuMs: number; waitMs: number }> = {};
  for (const [logicalId, runs] of Object.entries(result.invocationsPerExchange)) {
    functions[logicalId] = {
      invocations: runs.count,
      cpuMs: result.handlerCpuMsPerExchange.byFunction[logicalId] ?? 0,
      // The exchange function waits for the provider: the benchmark's upstream delay.
      waitMs: /^ExchangeFunction/.test(logicalId) ? result.upstreamDelayMs : 0,
    };
  }
  const invocations = Object.values(functions).reduce((sum, fn) => sum + fn.invocations, 0);
  // Traces start at the API request and at each queue-triggered invocation (the appender).
  const queueTriggered = Object.entries(functions)
    .filter(([logicalId]) => /Appender/.test(logicalId))
    .reduce((sum, [, fn]) => sum + fn.invocations, 0);
  return {
    apiRequests: 1,
    functions,
    awsCalls: {
      ...result.awsCallsPerExchange,
      "dynamodb:WriteRequestUnits":
        (result.awsCallsPerExchange["dynamodb:WriteRequestUnits"] ?? 0) +
        logIndexWriteUnits(result.awsCallsPerExchangeByCaller, LOG_TABLE_INDEXES),
    },
    logBytes:
      result.logBytesPerExchange + EXECUTION_LOG_BYTES_PER_REQUEST + invocations * PLATFORM_LOG_BYTES_PER_INVOCATION,
    traces: defaultSampledShare(TRACED_RATE_PER_SECOND) * (1 + queueTriggered),
    stateTransitions: 0,
    sqsFifo: true,
  };
}

interface SyncResult {
  readonly records: number;
  readonly measuredAt: string;
  readonly invocationsPerRecord: Record<string, { readonly count: number; readonly cpuMs: number }>;
  readonly awsCallsPerRecord: Record<string, number>;
  readonly logBytesPerRecord: number;
}

/**
 * Write units per record applied, from the code: its current item and its history item (each
 * under 1 KB, one unit each even inside a BatchWriteItem) and the current item's `byDataset`
 * index entry, which the counted calls cannot show: a floor under what they counted.
 */
const SYNC_WRITE_UNITS_PER_RECORD = 3;

/** API requests an agency makes per batch: open the upload, complete it, read the batch's state once. */
const SYNC_API_REQUESTS_PER_BATCH = 3;

/** One record synced, as counted by bench:sync (one batch of `records`), with the agency's side added. */
function syncCounts(result: SyncResult): WorkCounts {
  const perRecord = 1 / result.records;
  const functions: Record<string, { invocations: number; cpuMs: number; waitMs: number }> = {};
  for (const [logicalId, runs] of Object.entries(result.invocationsPerRecord)) {
    functions[logicalId] = { invocations: runs.count, cpuMs: runs.cpuMs, waitMs: 0 };
  }
  const invocations = Object.values(functions).reduce((sum, fn) => sum + fn.invocations, 0);
  const apiRequests = SYNC_API_REQUESTS_PER_BATCH * perRecord;
  return {
    apiRequests,
    functions,
    // The agency's upload through the presigned URL is one PutObject the benchmark makes itself.
    awsCalls: {
      ...result.awsCallsPerRecord,
      "dynamodb:WriteRequestUnits": Math.max(
        result.awsCallsPerRecord["dynamodb:WriteRequestUnits"] ?? 0,
        SYNC_WRITE_UNITS_PER_RECORD,
      ),
      "s3:PutObject": (result.awsCallsPerRecord["s3:PutObject"] ?? 0) + perRecord,
    },
    logBytes:
      result.logBytesPerRecord +
      apiRequests * EXECUTION_LOG_BYTES_PER_REQUEST +
      invocations * PLATFORM_LOG_BYTES_PER_INVOCATION,
    traces: defaultSampledShare(TRACED_RATE_PER_SECOND) * (apiRequests + invocations),
    // Not counted locally; per batch and partition, not per record.
    stateTransitions: 0,
    sqsFifo: false,
  };
}

/** Days the exports bucket keeps a package: its lifecycle rule for `exports/` in the template. */
function packageRetentionDays(): number {
  for (const stack of assemblyStacks()) {
    for (const resource of Object.values(stack.template.Resources)) {
      if (resource.Type !== "AWS::S3::Bucket") continue;
      const rules = (resource.Properties?.LifecycleConfiguration as { Rules?: unknown[] } | undefined)?.Rules ?? [];
      for (const rule of rules as Array<{ Id?: string; ExpirationInDays?: number }>) {
        if (rule.Id === "expire-exports" && rule.ExpirationInDays) return rule.ExpirationInDays;
      }
    }
  }
  throw new Error("the template has no exports bucket with an expire-exports lifecycle rule");
}

const syncFile = join(resultsDir, "sync.json");
const syncResult = existsSync(syncFile) ? (JSON.parse(readFileSync(syncFile, "utf8")) as SyncResult) : undefined;

const exportFile = join(resultsDir, "export.json");
const exportResult = existsSync(exportFile)
  ? (JSON.parse(readFileSync(exportFile, "utf8")) as ExportResult)
  : undefined;

const exchangeFile = join(resultsDir, "exchange.json");
const exchangeResult = existsSync(exchangeFile)
  ? (JSON.parse(readFileSync(exchangeFile, "utf8")) as ExchangeResult)
  : undefined;
if (!exchangeResult && !syncResult && !exportResult)
  throw new Error(`no ${exchangeFile}: run npm run bench:exchange first`);
const memory = memorySizes();
const counts = exchangeResult && exchangeCounts(exchangeResult);
const exchange = counts && costPerMillion(counts, memory, prices);
const sync = syncResult && { counts: syncCounts(syncResult), result: syncResult };
const syncCost = sync && costPerMillion(sync.counts, memory, prices);
const retentionDays = exportResult ? packageRetentionDays() : undefined;
const exported =
  exportResult &&
  retentionDays !== undefined &&
  exportCounts(exportResult, {
    executionLogBytesPerRequest: EXECUTION_LOG_BYTES_PER_REQUEST,
    platformLogBytesPerInvocation: PLATFORM_LOG_BYTES_PER_INVOCATION,
    stateMachineLogBytesPerTransition: STATE_MACHINE_LOG_BYTES_PER_TRANSITION,
    sampledShare: defaultSampledShare(TRACED_RATE_PER_SECOND),
    logTableIndexes: LOG_TABLE_INDEXES,
    packageRetentionDays: retentionDays,
  });
const exportCost = exported && costPerMillion(exported, memory, prices);

const output = {
  region: prices.region,
  pricesTakenOn: prices.takenOn,
  priceTable: "bench/prices.json",
  perMillionExchanges:
    exchangeResult && counts && exchange
      ? {
          usd: exchange.total,
          byService: exchange.byService,
          from: `npm run bench:exchange of ${exchangeResult.measuredAt} (${exchangeResult.requests} requests)`,
          counts,
          memoryMb: Object.fromEntries(
            Object.keys(counts.functions).map((logicalId) => [logicalId, memory[logicalId]]),
          ),
        }
      : "not measured: run npm run bench:exchange first",
  perMillionRecordsSynced:
    sync && syncCost
      ? {
          usd: syncCost.total,
          byService: syncCost.byService,
          from: `npm run bench:sync of ${sync.result.measuredAt} (one batch of ${sync.result.records} records)`,
          counts: sync.counts,
          method: `the platform's work for one batch measured as for exchanges, per record; the agency's ${SYNC_API_REQUESTS_PER_BATCH} API requests and its upload (one PutObject) per batch added; DynamoDB write units at least ${SYNC_WRITE_UNITS_PER_RECORD} per record (current item, history item, index entry: from the code); Step Functions state transitions not counted (per batch and partition); SQS at the standard price`,
        }
      : "not measured: run npm run bench:sync first",
  perMillionRecordsExported:
    exportResult && exported && exportCost
      ? {
          usd: exportCost.total,
          byService: exportCost.byService,
          from: `npm run bench:export-api of ${exportResult.measuredAt} (one export of ${exportResult.records} records)`,
          counts: exported,
          packageBytesPerRecord: exportResult.packageBytesPerRecord,
          packageRetentionDays: retentionDays,
          memoryMb: Object.fromEntries(
            Object.keys(exported.functions).map((logicalId) => [logicalId, memory[logicalId]]),
          ),
          method: `measured as for exchanges, per record exported, from the export request to the job's end: the functions' invocations and CPU, their AWS calls (S3 writes of the package, kms:Sign of its manifest, DynamoDB request units), the job's state transitions as the local Step Functions counts them (states entered and retries), log bytes, and the consumer's API requests (the start, its state read every 30 s and once at the end); added: the consumer's download through its link (one S3 GetObject per export, billed to the bucket's owner; data transfer out not included), the log table's ${LOG_TABLE_INDEXES} index writes per entry, ${STATE_MACHINE_LOG_BYTES_PER_TRANSITION} bytes of state machine log per transition (an estimate), and the package kept in S3 Standard for ${retentionDays} days until the exports bucket's lifecycle rule expires it (s3Storage)`,
        }
      : "not measured: run npm run bench:export-api first",
  method: {
    lambdaDuration:
      "lower bound: each function's measured CPU ms, stretched by 1769 MB / its memory (its share of a vCPU), plus the measured upstream wait for the exchange function; requests as invoked",
    dynamodb: `request units per call as DynamoDB computes them from the items each call writes or reads (counted by the local runtime), plus the log table's ${LOG_TABLE_INDEXES} index writes of each appended entry`,
    sqs: "every counted SQS call (sends by the functions, receives and deletes by the event source mapping) at the FIFO price; idle polls locally are every second, on AWS every 20 s",
    kms: "Sign/Verify/GetPublicKey at the asymmetric price, others at the symmetric price",
    cloudWatchLogs: `measured bytes of function logs and API access log + ${EXECUTION_LOG_BYTES_PER_REQUEST} bytes of API Gateway execution log per request (prod: ${PROD.executionLogLevel}) + ${PLATFORM_LOG_BYTES_PER_INVOCATION} bytes of Lambda platform records per invocation (prod: ${PROD.systemLogLevel}; estimates)`,
    xray: `X-Ray default sampling rule at ${TRACED_RATE_PER_SECOND} requests/s, one trace per API request and per queue-triggered invocation`,
    stepFunctions:
      "Standard state transitions as the local runtime counts them (each state entered, in Map iterations too, and each retry); priced for records exported, not yet for records synced",
    notIncluded:
      "monthly fixed fees (WAF ACL and rules, KMS keys, alarms, dashboard), log storage, data transfer, free tiers, KMS calls S3 makes for SSE-KMS objects (bucket keys: few)",
  },
};
process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);

if (process.argv.includes("--readme")) {
  if (!exchange || !exchangeResult) throw new Error(`no ${exchangeFile}: run npm run bench:exchange first`);
  const readme = join(PROJECT_ROOT, "README.md");
  const text = readFileSync(readme, "utf8");
  const start = "<!-- cost:start -->";
  const end = "<!-- cost:end -->";
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} section`);
  writeFileSync(
    readme,
    `${text.slice(0, from + start.length)}\n${costTable(exchange, exchangeResult)}\n${text.slice(to)}`,
  );
}

/** The README's cost table: dollars per million exchanges by service. */
function costTable(breakdown: CostBreakdown, exchangeResult: ExchangeResult): string {
  // Padded as Biome formats Markdown tables, so the README stays formatted.
  const rows: Array<[string, string]> = [
    ["Service", "USD per million exchanges"],
    ...Object.entries(breakdown.byService).map(([service, usd]): [string, string] => [service, usd.toFixed(2)]),
    ["**Total**", `**${breakdown.total.toFixed(2)}**`],
  ];
  const left = Math.max(...rows.map(([name]) => name.length));
  const right = Math.max(...rows.map(([, usd]) => usd.length));
  const line = ([name, usd]: [string, string]) => `| ${name.padEnd(left)} | ${usd.padStart(right)} |`;
  const [head, ...body] = rows as [[string, string], ...Array<[string, string]>];
  return [
    `Dollars per million request-based exchanges in ${prices.region}: \`npm run cost\` with the list prices of ${prices.takenOn} ([bench/prices.json](bench/prices.json)) and the counts of \`npm run bench:exchange\` of ${exchangeResult.measuredAt.slice(0, 10)} (${exchangeResult.requests} requests; ${exchangeResult.handlerCpuMsPerExchange.total} ms of function CPU and ${exchangeResult.awsCallsPerExchange["kms:Sign"] ?? 0} \`kms:Sign\` per exchange).`,
    "",
    line(head),
    `| ${"-".repeat(left)} | ${"-".repeat(right - 1)}: |`,
    ...body.map(line),
    "",
    recordsLine({
      synced: syncCost &&
        sync && { usd: syncCost.total, measuredAt: sync.result.measuredAt, records: sync.result.records },
      exported:
        exportCost && exportResult && retentionDays !== undefined
          ? {
              usd: exportCost.total,
              storageUsd: exportCost.byService.s3Storage ?? 0,
              retentionDays,
              measuredAt: exportResult.measuredAt,
              records: exportResult.records,
            }
          : undefined,
    }),
  ].join("\n");
}
