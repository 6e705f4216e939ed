// Dollars per million units of work (exchanges, records synced, records exported) from counts
// measured per unit of work on the local runtime, the template's memory sizes and a price table.
// Pure: no I/O, so unit tests can check prices × counts.

/** Names of the prices the model uses (bench/prices.json). */
export type PriceName =
  | "apiGatewayRestRequest"
  | "wafRequest"
  | "lambdaRequest"
  | "lambdaArmGbSecond"
  | "dynamodbReadRequestUnit"
  | "dynamodbWriteRequestUnit"
  | "sqsFifoRequest"
  | "sqsStandardRequest"
  | "kmsAsymmetricRequest"
  | "kmsSymmetricRequest"
  | "cloudWatchLogsIngestedGb"
  | "xrayTraceRecorded"
  | "s3PutRequest"
  | "s3GetRequest"
  | "s3StandardGbMonth"
  | "stepFunctionsStateTransition";

export interface PriceTable {
  readonly region: string;
  readonly takenOn: string;
  readonly prices: Readonly<
    Record<PriceName, { readonly usd: number; readonly unit: string; readonly source: string }>
  >;
}

/** What one unit of work (one exchange, one record) costs in calls, CPU and bytes. */
export interface WorkCounts {
  /** Requests through API Gateway (and its WAF web ACL). */
  readonly apiRequests: number;
  /** Per function (logical id): invocations, CPU ms, and ms spent waiting on something outside. */
  readonly functions: Readonly<
    Record<string, { readonly invocations: number; readonly cpuMs: number; readonly waitMs: number }>
  >;
  /** `service:Operation` → calls, with `dynamodb:ReadRequestUnits` / `WriteRequestUnits` as counted. */
  readonly awsCalls: Readonly<Record<string, number>>;
  /** Bytes ingested by CloudWatch Logs. */
  readonly logBytes: number;
  /** X-Ray traces recorded. */
  readonly traces: number;
  /** Step Functions Standard state transitions. */
  readonly stateTransitions: number;
  /** Whether the SQS calls are on FIFO queues. */
  readonly sqsFifo: boolean;
  /** GB-months of S3 Standard storage (objects kept until a lifecycle rule expires them). */
  readonly storedGbMonths?: number;
}

/** Memory a Lambda function gets one full vCPU at; below it, CPU is a share of one. */
export const FULL_VCPU_MEMORY_MB = 1769;

export interface CostBreakdown {
  /** Dollars per million units of work. */
  readonly total: number;
  readonly byService: Readonly<Record<string, number>>;
}

const KMS_ASYMMETRIC = new Set(["Sign", "Verify", "GetPublicKey"]);
const S3_GET = new Set(["GetObject", "HeadObject", "HeadBucket", "ListParts"]);
const S3_FREE = new Set(["DeleteObject", "DeleteObjects", "AbortMultipartUpload", "DeleteBucket"]);

/**
 * Billed duration of one function's work per unit, in ms: its CPU time stretched by the share
 * of a vCPU its memory buys (a lower bound: Lambda bills wall time), plus its waits.
 */
export function billedMs(cpuMs: number, waitMs: number, memoryMb: number): number {
  return cpuMs * Math.max(1, FULL_VCPU_MEMORY_MB / memoryMb) + waitMs;
}

/** Prices × counts: dollars per million units of work, by service. */
export function costPerMillion(
  counts: WorkCounts,
  memoryMb: Readonly<Record<string, number>>,
  table: PriceTable,
): CostBreakdown {
  const price = (name: PriceName) => table.prices[name].usd;
  const byService: Record<string, number> = {};
  const add = (service: string, usd: number) => {
    if (usd > 0) byService[service] = (byService[service] ?? 0) + usd;
  };

  add("apiGateway", counts.apiRequests * price("apiGatewayRestRequest"));
  add("waf", counts.apiRequests * price("wafRequest"));
  for (const [logicalId, work] of Object.entries(counts.functions)) {
    const memory = memoryMb[logicalId];
    if (memory === undefined) throw new Error(`no memory size for function ${logicalId}`);
    const gbSeconds = (billedMs(work.cpuMs, work.waitMs, memory) / 1000) * (memory / 1024);
    add("lambda", work.invocations * price("lambdaRequest") + gbSeconds * price("lambdaArmGbSecond"));
  }
  for (const [call, count] of Object.entries(counts.awsCalls)) {
    const [service, operation = ""] = call.split(":");
    switch (service) {
      case "dynamodb":
        if (operation === "ReadRequestUnits") add("dynamodb", count * price("dynamodbReadRequestUnit"));
        if (operation === "WriteRequestUnits") add("dynamodb", count * price("dynamodbWriteRequestUnit"));
        break;
      case "sqs":
        add("sqs", count * price(counts.sqsFifo ? "sqsFifoRequest" : "sqsStandardRequest"));
        break;
      case "kms":
        add("kms", count * price(KMS_ASYMMETRIC.has(operation) ? "kmsAsymmetricRequest" : "kmsSymmetricRequest"));
        break;
      case "s3":
        if (!S3_FREE.has(operation)) add("s3", count * price(S3_GET.has(operation) ? "s3GetRequest" : "s3PutRequest"));
        break;
      default:
        // Lambda Invoke is billed as the invocation (above); Step Functions by state transition.
        break;
    }
  }
  add("cloudWatchLogs", (counts.logBytes / 1024 ** 3) * price("cloudWatchLogsIngestedGb"));
  add("xray", counts.traces * price("xrayTraceRecorded"));
  add("stepFunctions", counts.stateTransitions * price("stepFunctionsStateTransition"));
  if (counts.storedGbMonths) add("s3Storage", counts.storedGbMonths * price("s3StandardGbMonth"));

  const perMillion = Object.fromEntries(
    Object.entries(byService)
      .map(([service, usd]) => [service, round(usd * 1_000_000)] as const)
      .sort(([, a], [, b]) => b - a),
  );
  return {
    total: round(Object.values(byService).reduce((sum, usd) => sum + usd, 0) * 1_000_000),
    byService: perMillion,
  };
}

/**
 * Share of requests X-Ray's default sampling rule records at a steady rate: the first request
 * each second (the reservoir) and 5% of the rest.
 */
export function defaultSampledShare(requestsPerSecond: number): number {
  if (requestsPerSecond <= 1) return 1;
  return (1 + 0.05 * (requestsPerSecond - 1)) / requestsPerSecond;
}

/**
 * Write units the exchange log's indexes add, which the calls themselves cannot show: each entry
 * an appender (a caller named `…Appender…`) puts is written again to each index, at the entry's
 * size. The appender's other write (the chain head's UpdateItem) is taken as one unit.
 */
export function logIndexWriteUnits(
  callsByCaller: Readonly<Record<string, Readonly<Record<string, number>>>>,
  indexes: number,
): number {
  const appender = Object.entries(callsByCaller).find(([caller]) => /Appender/.test(caller))?.[1];
  if (!appender) return 0;
  const entryUnits = (appender["dynamodb:WriteRequestUnits"] ?? 0) - (appender["dynamodb:UpdateItem"] ?? 0);
  return indexes * Math.max(0, entryUnits);
}

/** What bench:export-api measured per record exported (.dscp/bench/export.json). */
export interface ExportResult {
  readonly records: number;
  readonly measuredAt: string;
  /** The consumer's requests: the export's start, its state read until it ended. */
  readonly apiRequestsPerRecord: number;
  readonly invocationsPerRecord: Readonly<Record<string, { readonly count: number; readonly cpuMs: number }>>;
  readonly awsCallsPerRecord: Readonly<Record<string, number>>;
  readonly awsCallsPerRecordByCaller: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly stateTransitionsPerRecord: number;
  readonly logBytesPerRecord: number;
  /** The package's size in S3 (the archive), per record. */
  readonly packageBytesPerRecord: number;
}

/** What the local runtime cannot see, estimated (or read from the template) by the caller. */
export interface ExportEstimates {
  /** API Gateway execution log bytes per request. */
  readonly executionLogBytesPerRequest: number;
  /** Lambda platform log bytes (START/END/REPORT) per invocation. */
  readonly platformLogBytesPerInvocation: number;
  /** The job's state machine log bytes per state transition (it logs every event). */
  readonly stateMachineLogBytesPerTransition: number;
  /** Share of traces X-Ray records. */
  readonly sampledShare: number;
  /** Indexes of the exchange log table, each written again per entry. */
  readonly logTableIndexes: number;
  /** Days a package is kept before the exports bucket's lifecycle rule expires it. */
  readonly packageRetentionDays: number;
}

/**
 * One record exported, as bench:export-api counted it, with what the local runtime cannot see
 * added: the log table's index writes, the consumer's download through its link (one GetObject
 * per package, which the bucket's owner pays), the logs it does not write, traces, and the
 * package's storage until it expires.
 */
export function exportCounts(result: ExportResult, estimates: ExportEstimates): WorkCounts {
  const functions: Record<string, { invocations: number; cpuMs: number; waitMs: number }> = {};
  for (const [logicalId, runs] of Object.entries(result.invocationsPerRecord)) {
    functions[logicalId] = { invocations: runs.count, cpuMs: runs.cpuMs, waitMs: 0 };
  }
  const invocations = Object.values(functions).reduce((sum, fn) => sum + fn.invocations, 0);
  // Traces start at the API requests (the job's execution joins the start's trace) and at each
  // queue-triggered invocation (the appender).
  const queueTriggered = Object.entries(functions)
    .filter(([logicalId]) => /Appender/.test(logicalId))
    .reduce((sum, [, fn]) => sum + fn.invocations, 0);
  const apiRequests = result.apiRequestsPerRecord;
  return {
    apiRequests,
    functions,
    awsCalls: {
      ...result.awsCallsPerRecord,
      "dynamodb:WriteRequestUnits":
        (result.awsCallsPerRecord["dynamodb:WriteRequestUnits"] ?? 0) +
        logIndexWriteUnits(result.awsCallsPerRecordByCaller, estimates.logTableIndexes),
      "s3:GetObject": (result.awsCallsPerRecord["s3:GetObject"] ?? 0) + 1 / result.records,
    },
    logBytes:
      result.logBytesPerRecord +
      apiRequests * estimates.executionLogBytesPerRequest +
      invocations * estimates.platformLogBytesPerInvocation +
      result.stateTransitionsPerRecord * estimates.stateMachineLogBytesPerTransition,
    traces: estimates.sampledShare * (apiRequests + queueTriggered),
    stateTransitions: result.stateTransitionsPerRecord,
    // The export path sends to the log queue only, a FIFO queue; its pollers' receives are priced alike.
    sqsFifo: true,
    storedGbMonths: (result.packageBytesPerRecord / 1024 ** 3) * (estimates.packageRetentionDays / DAYS_PER_MONTH),
  };
}

/** One unit of records priced, for the README's line under the cost table. */
export interface RecordsPriced {
  readonly usd: number;
  readonly measuredAt: string;
  readonly records: number;
}

/**
 * The README's line under the cost table: dollars per million records synced and exported, each
 * with the run it comes from, or how to measure it.
 */
export function recordsLine(priced: {
  readonly synced?: RecordsPriced | undefined;
  readonly exported?: (RecordsPriced & { readonly storageUsd: number; readonly retentionDays: number }) | undefined;
}): string {
  const { synced, exported } = priced;
  return [
    synced
      ? `Per million records synced (\`npm run bench:sync\` of ${synced.measuredAt.slice(0, 10)}, one batch of ${synced.records} records, Step Functions state transitions not counted): $${dollars(synced.usd)}.`
      : "Per million records synced: not measured yet (run `npm run bench:sync`, then `npm run cost`).",
    exported
      ? `Per million records exported (\`npm run bench:export-api\` of ${exported.measuredAt.slice(0, 10)}, one export of ${exported.records} records, downloaded once): $${dollars(exported.usd)}, of which $${dollars(exported.storageUsd)} is the packages' storage for the ${exported.retentionDays} days they are kept.`
      : "Per million records exported: not measured yet (run `npm run bench:export-api`, then `npm run cost`).",
  ].join(" ");
}

/** Dollars to the cent, or to two significant digits under a dollar. */
function dollars(usd: number): string {
  return usd >= 1 ? usd.toFixed(2) : String(Number(usd.toPrecision(2)));
}

/** S3 bills storage per GB-month: a month is a twelfth of a 365-day year here. */
const DAYS_PER_MONTH = 365 / 12;

/** To the cent, or to three significant digits under a dollar (records exported cost fractions of one). */
function round(usd: number): number {
  return Math.abs(usd) >= 1 ? Number(usd.toFixed(2)) : Number(usd.toPrecision(3));
}
