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

function round(usd: number): number {
  return Number(usd.toFixed(2));
}
