// npm run cost — dollars per million exchanges (and records synced / exported, where measured)
// on AWS in us-east-1, from the counts the benchmarks measured on the local runtime
// (.dscp/bench/*.json), the template's memory sizes and bench/prices.json. Prints JSON;
// `--readme` also rewrites the README's cost table between its markers.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readAssembly } from "../runtime/assembly.ts";
import { PROJECT_ROOT } from "../runtime/synth.ts";
import {
  type CostBreakdown,
  costPerMillion,
  defaultSampledShare,
  type PriceTable,
  type WorkCounts,
} from "./cost-model.ts";

/** API Gateway execution log bytes per request at INFO (every stage today): an estimate, not measured locally. */
const EXECUTION_LOG_BYTES_PER_REQUEST = 3000;
/** Lambda's platform records per invocation (START/REPORT lines, JSON format): an estimate. */
const PLATFORM_LOG_BYTES_PER_INVOCATION = 700;
/** Steady rate the X-Ray default sampling rule is applied at. */
const TRACED_RATE_PER_SECOND = 300;

const prices = JSON.parse(readFileSync(join(PROJECT_ROOT, "bench", "prices.json"), "utf8")) as PriceTable;
const resultsDir = join(PROJECT_ROOT, ".dscp", "bench");

/** Memory size of every function in the synthesized templates, by logical id. */
function memorySizes(): Record<string, number> {
  const candidates = [join(PROJECT_ROOT, ".dscp", "bench-exchange", "cdk.out"), join(PROJECT_ROOT, "cdk.out")];
  const assemblyDir = candidates.find((dir) => existsSync(join(dir, "manifest.json")));
  if (!assemblyDir) throw new Error("no cloud assembly: run npm run bench:exchange (or npm run synth) first");
  const sizes: Record<string, number> = {};
  for (const stack of readAssembly(assemblyDir)) {
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

/**
 * Write units the log table's indexes add per exchange, which the wire bytes cannot show: each
 * entry the appender puts is written again to each index, at the entry's size. The appender's
 * other write (the chain head's UpdateItem) is taken as one unit.
 */
function logIndexWriteUnits(result: ExchangeResult): number {
  const appender = Object.entries(result.awsCallsPerExchangeByCaller).find(([caller]) => /Appender/.test(caller))?.[1];
  if (!appender) return 0;
  const entryUnits = (appender["dynamodb:WriteRequestUnits"] ?? 0) - (appender["dynamodb:UpdateItem"] ?? 0);
  return LOG_TABLE_INDEXES * Math.max(0, entryUnits);
}

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
        (result.awsCallsPerExchange["dynamodb:WriteRequestUnits"] ?? 0) + logIndexWriteUnits(result),
    },
    logBytes:
      result.logBytesPerExchange + EXECUTION_LOG_BYTES_PER_REQUEST + invocations * PLATFORM_LOG_BYTES_PER_INVOCATION,
    traces: defaultSampledShare(TRACED_RATE_PER_SECOND) * (1 + queueTriggered),
    stateTransitions: 0,
    sqsFifo: true,
  };
}

const exchangeFile = join(resultsDir, "exchange.json");
if (!existsSync(exchangeFile)) throw new Error(`no ${exchangeFile}: run npm run bench:exchange first`);
const exchangeResult = JSON.parse(readFileSync(exchangeFile, "utf8")) as ExchangeResult;
const memory = memorySizes();
const counts = exchangeCounts(exchangeResult);
const exchange = costPerMillion(counts, memory, prices);

const output = {
  region: prices.region,
  pricesTakenOn: prices.takenOn,
  priceTable: "bench/prices.json",
  perMillionExchanges: {
    usd: exchange.total,
    byService: exchange.byService,
    from: `npm run bench:exchange of ${exchangeResult.measuredAt} (${exchangeResult.requests} requests)`,
    counts,
    memoryMb: Object.fromEntries(Object.keys(counts.functions).map((logicalId) => [logicalId, memory[logicalId]])),
  },
  method: {
    lambdaDuration:
      "lower bound: each function's measured CPU ms, stretched by 1769 MB / its memory (its share of a vCPU), plus the measured upstream wait for the exchange function; requests as invoked",
    dynamodb: `request units estimated per call by the local runtime from bytes on the wire (reads per 4 KB, strongly consistent; writes per 1 KB), plus the log table's ${LOG_TABLE_INDEXES} index writes of each appended entry; the appender's read of a shard's newest 50 entries grows with the chain (short in a benchmark run)`,
    sqs: "every counted SQS call (sends by the functions, receives and deletes by the event source mapping) at the FIFO price; idle polls locally are every second, on AWS every 20 s",
    kms: "Sign/Verify/GetPublicKey at the asymmetric price, others at the symmetric price",
    cloudWatchLogs: `measured bytes of function logs and API access log + ${EXECUTION_LOG_BYTES_PER_REQUEST} bytes of API Gateway execution log at INFO per request + ${PLATFORM_LOG_BYTES_PER_INVOCATION} bytes of Lambda platform records per invocation (estimates)`,
    xray: `X-Ray default sampling rule at ${TRACED_RATE_PER_SECOND} requests/s, one trace per API request and per queue-triggered invocation`,
    notIncluded:
      "monthly fixed fees (WAF ACL and rules, KMS keys, alarms, dashboard), log storage, data transfer, free tiers; records synced and exported are not measured yet",
  },
};
process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);

if (process.argv.includes("--readme")) {
  const readme = join(PROJECT_ROOT, "README.md");
  const text = readFileSync(readme, "utf8");
  const start = "<!-- cost:start -->";
  const end = "<!-- cost:end -->";
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} section`);
  writeFileSync(readme, `${text.slice(0, from + start.length)}\n${costTable(exchange)}\n${text.slice(to)}`);
}

/** The README's cost table: dollars per million exchanges by service. */
function costTable(breakdown: CostBreakdown): string {
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
  ].join("\n");
}
