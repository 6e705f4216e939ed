// npm run bench:exchange — the same load against a provider directly and through the platform
// on the local runtime (authoriser, permission check, signed upstream call, projection, log),
// printed as JSON. Loopback only; bounded request counts.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { exchangeRoutes } from "../api/exchange.ts";
import { platformKeyRoutes } from "../api/platform.ts";
import { pathOf } from "../api/route.ts";
import { generateIdentity } from "../client/identity-files.ts";
import { platformOutputs } from "../client/outputs.ts";
import { syntheticPopulation } from "../demo/population.ts";
import { startDemoUpstream } from "../demo/upstream.ts";
import { callsBetween, callsByOperation, RUNTIME_CALLER } from "../runtime/aws-calls.ts";
import { PROJECT_ROOT } from "../runtime/synth.ts";
import { drainQueues, load, logBytesBetween, perExchange, windowOf } from "./measure.ts";
import { startBenchPlatform } from "./platform.ts";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const UPSTREAM_DELAY_MS = 20;
/**
 * Exchanges made before the measured window: environments on AWS serve thousands of requests
 * each, so what a warm, optimised (JIT-compiled) handler costs is what counts, not its first ones.
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 400);

/** Where the printed JSON is also saved, for `npm run cost`. */
const resultFile = join(PROJECT_ROOT, ".dscp", "bench", "exchange.json");
const ENVIRONMENTS = Number(process.env.BENCH_ENVIRONMENTS ?? 4);
const { runtime, workDir, client, admin } = await startBenchPlatform("bench-exchange", {
  maxConcurrency: ENVIRONMENTS,
  // Registry and permissions cached as on a deployed stage (the local stage reads them each time).
  context: { "dscp:registryCacheSeconds": "30", "dscp:permissionCacheSeconds": "10" },
});
const outputs = platformOutputs(runtime.outputs);

const population = syntheticPopulation(500, 11);
const records = new Map(population.map((citizen) => [citizen.personalId, { ...citizen }]));
const common = {
  platformIssuer: outputs.PlatformAudience as string,
  systemId: "MPS.POPULATION",
  basePath: "/citizens",
  records,
};
const jwksUrl = `${outputs.ApiUrl}${pathOf(platformKeyRoutes.getPlatformKeys).slice(1)}`;
const viaPlatform = await startDemoUpstream({ ...common, jwksUrl });
const direct = await startDemoUpstream({ ...common, jwksUrl, verify: false });
viaPlatform.behave({ delayMs: UPSTREAM_DELAY_MS });
direct.behave({ delayMs: UPSTREAM_DELAY_MS });

const provider = await generateIdentity("MPS.POPULATION");
const consumer = await generateIdentity("HCM.PORTAL");
await admin.registerAgency({ code: "MPS", name: "Bộ Công an", level: "central" });
await admin.registerAgency({ code: "HCM", name: "UBND TP. Hồ Chí Minh", level: "provincial" });
await admin.registerSystem("MPS", {
  id: provider.systemId,
  name: "Population",
  capabilities: ["provider"],
  endpoint: viaPlatform.url,
  keys: [{ kid: provider.kid, jwk: provider.publicJwk as never }],
});
await admin.approveEndpoint(provider.systemId, viaPlatform.url);
await admin.registerSystem("HCM", {
  id: consumer.systemId,
  name: "Portal",
  capabilities: ["consumer"],
  keys: [{ kid: consumer.kid, jwk: consumer.publicJwk as never }],
});
const fields = ["personalId", "fullName", "birthDate", "province"];
await client(provider).publishDataset({
  id: "MPS.POPULATION.CITIZENS",
  providerSystem: provider.systemId,
  title: "Dân cư",
  description: "Synthetic citizens",
  scope: "Citizens",
  qualityStatement: "Synthetic",
  accessConditions: "State agencies",
  classification: "restricted",
  methods: ["request"],
  upstreamPath: "/citizens",
  keyFields: ["personalId"],
  fields: fields.map((name) => ({ name, type: "string" as const, personal: true })),
});
const request = await client(consumer).requestAccess({
  datasetId: "MPS.POPULATION.CITIZENS",
  fields: ["personalId", "fullName", "province"],
  purpose: "Benchmark of request-based exchange",
  purposeClass: "public-service",
  methods: ["request"],
  validUntil: new Date(Date.now() + 86_400_000).toISOString(),
  legalBasis: "Benchmark",
});
await client(provider).decide(request.id, { decision: "approve", reason: "Benchmark approval" });

/** `load` at this benchmark's request count and concurrency. */
function run(call: (index: number) => Promise<number>, requests = REQUESTS) {
  return load(call, requests, CONCURRENCY);
}

const keys = population.map((citizen) => citizen.personalId);
const consumerClient = client(consumer);
const recordPath = (key: string) => pathOf(exchangeRoutes.getRecord, { datasetId: "MPS.POPULATION.CITIZENS", key });
try {
  // Warm both paths (cold functions, connections, compiled code) before measuring.
  await run(
    (index) =>
      consumerClient
        .send(exchangeRoutes.getRecord.method, recordPath(keys[index % keys.length] as string))
        .then((response) => response.status),
    WARMUP,
  );
  const directResult = await run(async (index) => {
    const response = await fetch(
      `${direct.url}/citizens/records/${keys[index % keys.length]}?fields=personalId,fullName,province`,
    );
    await response.arrayBuffer();
    return response.status;
  });
  // The measured window: from a quiet platform (the warm-up's log entries appended) to the
  // moment the log queue has handed every entry of the window to the appender and deleted it.
  await drainQueues(runtime.clients.sqs);
  const before = windowOf(runtime, join(workDir, "data", "logs"));
  const benchCpuBefore = process.cpuUsage();
  const platformResult = await run(async (index) => {
    const response = await consumerClient.send(
      exchangeRoutes.getRecord.method,
      recordPath(keys[index % keys.length] as string),
    );
    return response.status;
  });
  await drainQueues(runtime.clients.sqs);
  const after = windowOf(runtime, join(workDir, "data", "logs"));
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const cpuByFunction: Record<string, number> = {};
  for (const [logicalId, ms] of Object.entries(after.cpuMs)) {
    const used = ms - (before.cpuMs[logicalId] ?? 0);
    if (used > 0) cpuByFunction[logicalId] = used;
  }
  const invocations: Record<string, { count: number; ms: number }> = {};
  for (const [logicalId, runs] of Object.entries(after.invocations)) {
    const earlier = before.invocations[logicalId] ?? { count: 0, ms: 0 };
    if (runs.count > earlier.count)
      invocations[logicalId] = { count: runs.count - earlier.count, ms: runs.ms - earlier.ms };
  }
  // Calls by the functions and by the event source mappings; the runtime's own (provisioning,
  // this benchmark's queue checks) are not the platform's.
  const calls = callsBetween(before.awsCalls, after.awsCalls);
  const platformCalls = Object.fromEntries(Object.entries(calls).filter(([caller]) => caller !== RUNTIME_CALLER));
  const cpuTotal = Object.values(cpuByFunction).reduce((sum, ms) => sum + ms, 0);
  // Every exchange must be in the verified log.
  const supervisor = admin;
  let logged = 0;
  for (let attempt = 0; attempt < 120; attempt++) {
    const verdict = await supervisor.verifyLog();
    logged = verdict.entries;
    if (logged >= REQUESTS + WARMUP && verdict.valid) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const result = {
    requests: REQUESTS,
    warmupRequests: WARMUP,
    concurrency: CONCURRENCY,
    environmentsPerFunction: ENVIRONMENTS,
    upstreamDelayMs: UPSTREAM_DELAY_MS,
    direct: directResult,
    platform: platformResult,
    throughputRatio: Number((platformResult.rps / directResult.rps).toFixed(3)),
    addedLatencyMs: {
      p50: Number((platformResult.p50 - directResult.p50).toFixed(1)),
      p99: Number((platformResult.p99 - directResult.p99).toFixed(1)),
    },
    logEntries: logged,
    everyExchangeLogged: logged >= REQUESTS + WARMUP,
    // CPU time of the functions' own processes (user + system, /proc, 10 ms ticks per
    // process) over the window, per exchange: what Lambda bills at least, waits excluded.
    // This process's CPU over the same window: the local stand-ins for AWS (API Gateway, DynamoDB,
    // SQS, the event source mappings), the provider and the load generator. Not billed on AWS;
    // it shares the two cores with the functions, so it bounds the local throughput too.
    localRuntimeCpuMsPerExchange: perExchange((benchCpu.user + benchCpu.system) / 1000, REQUESTS),
    handlerCpuMsPerExchange: {
      total: perExchange(cpuTotal, REQUESTS),
      byFunction: Object.fromEntries(
        Object.entries(cpuByFunction).map(([logicalId, ms]) => [logicalId, perExchange(ms, REQUESTS)]),
      ),
    },
    // Invocations and their duration (event in to result out, waits included) per exchange.
    invocationsPerExchange: Object.fromEntries(
      Object.entries(invocations).map(([logicalId, runs]) => [
        logicalId,
        { count: perExchange(runs.count, REQUESTS), ms: perExchange(runs.ms, REQUESTS) },
      ]),
    ),
    // What the functions and the API access log wrote (CloudWatch Logs ingests it on AWS).
    logBytesPerExchange: perExchange(logBytesBetween(before, after), REQUESTS),
    awsCallsPerExchange: Object.fromEntries(
      Object.entries(callsByOperation(platformCalls)).map(([operation, count]) => [
        operation,
        perExchange(count, REQUESTS),
      ]),
    ),
    awsCallsPerExchangeByCaller: Object.fromEntries(
      Object.entries(platformCalls).map(([caller, byOperation]) => [
        caller,
        Object.fromEntries(
          Object.entries(byOperation).map(([operation, count]) => [operation, perExchange(count, REQUESTS)]),
        ),
      ]),
    ),
    measuredAt: new Date().toISOString(),
  };
  const text = `${JSON.stringify(result, null, 2)}\n`;
  mkdirSync(dirname(resultFile), { recursive: true });
  writeFileSync(resultFile, text);
  process.stdout.write(text);
} finally {
  await viaPlatform.stop();
  await direct.stop();
  await runtime.stop();
}
