// npm run bench:agent — what the Agent Nodes cost next to the platform hop, on the local runtime:
// (a) the TypeScript client calling the platform, which calls a provider service directly, and
// (b) an internal client calling its consumer node with plain HTTP, which signs and calls the
// platform, which calls the provider node, which answers from the same kind of provider service
// through its REST backend. Printed as JSON: throughput and latency of both under load, their
// ratio, and the latency the two node hops add at concurrency 1. Loopback only.

import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet } from "jose";
import { parseLocalConfig } from "../agent/config.ts";
import { keygen, loadKeyFile, signingIdentity } from "../agent/keys.ts";
import { type AgentNode, startAgentNode } from "../agent/node.ts";
import { exchangeRoutes } from "../api/exchange.ts";
import { platformKeyRoutes } from "../api/platform.ts";
import { pathOf } from "../api/route.ts";
import { generateIdentity, type IdentityFile } from "../client/identity-files.ts";
import { platformOutputs } from "../client/outputs.ts";
import { syntheticPopulation } from "../demo/population.ts";
import { startDemoUpstream } from "../demo/upstream.ts";
import { load } from "./measure.ts";
import { startBenchPlatform } from "./platform.ts";

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
/** Sequential requests per path for the latency the node hops add when nothing queues. */
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const UPSTREAM_DELAY_MS = 20;
const DIRECT_DATASET = "MPS.POPULATION.CITIZENS";
const NODE_DATASET = "MPS.RESIDENCE.CITIZENS";
const FIELDS = ["personalId", "fullName", "province"];

const { runtime, client, admin } = await startBenchPlatform("bench-agent", {
  maxConcurrency: 4,
  context: { "dscp:registryCacheSeconds": "30", "dscp:permissionCacheSeconds": "10" },
});
const outputs = platformOutputs(runtime.outputs);
const apiUrl = String(outputs.ApiUrl);
const audience = String(outputs.PlatformAudience);
const jwksUrl = `${apiUrl}${pathOf(platformKeyRoutes.getPlatformKeys).slice(1)}`;

const population = syntheticPopulation(500, 11);
const records = new Map(population.map((citizen) => [citizen.personalId, { ...citizen }]));
const keys = population.map((citizen) => citizen.personalId);
// (a)'s provider verifies the platform's calls itself; (b)'s provider service sits behind its node.
const directProvider = await startDemoUpstream({
  jwksUrl,
  platformIssuer: audience,
  systemId: "MPS.POPULATION",
  basePath: "/citizens",
  records,
});
const backendService = await startDemoUpstream({
  jwksUrl,
  platformIssuer: audience,
  systemId: "MPS.RESIDENCE",
  basePath: "/citizens",
  records,
  verify: false,
});
directProvider.behave({ delayMs: UPSTREAM_DELAY_MS });
backendService.behave({ delayMs: UPSTREAM_DELAY_MS });

await admin.registerAgency({ code: "MPS", name: "Bộ Công an", level: "central" });
await admin.registerAgency({ code: "HCM", name: "UBND TP. Hồ Chí Minh", level: "provincial" });
const directConsumer = await generateIdentity("HCM.PORTAL");
const directProviderIdentity = await generateIdentity("MPS.POPULATION");
await admin.registerSystem("MPS", {
  id: directProviderIdentity.systemId,
  name: "Population (direct)",
  capabilities: ["provider"],
  endpoint: directProvider.url,
  keys: [{ kid: directProviderIdentity.kid, jwk: directProviderIdentity.publicJwk as never }],
});
await admin.approveEndpoint(directProviderIdentity.systemId, directProvider.url);
await admin.registerSystem("HCM", {
  id: directConsumer.systemId,
  name: "Portal (TypeScript client)",
  capabilities: ["consumer"],
  keys: [{ kid: directConsumer.kid, jwk: directConsumer.publicJwk as never }],
});

// The two nodes: keys made by the node's own keygen, listeners on free loopback ports.
const folder = mkdtempSync(join(tmpdir(), "bench-agent-"));
const apiKey = randomBytes(24).toString("base64url");
const keySet = createRemoteJWKSet(new URL(jwksUrl));
async function node(
  systemId: string,
  agency: string,
  capability: "provider" | "consumer",
): Promise<{ running: AgentNode; identity: IdentityFile }> {
  const keyFile = join(folder, `${systemId}.key.json`);
  const { key, publicJwk } = await keygen({ keyFile, systemId });
  const identity: IdentityFile = { ...signingIdentity(loadKeyFile(keyFile)), publicJwk };
  const started = await startAgentNode(
    parseLocalConfig({
      platform: { apiUrl, audience, systemId, keyFile },
      consumer: {
        port: 0,
        clients: [{ name: "bench", apiKeySha256: createHash("sha256").update(apiKey).digest("hex") }],
      },
      provider: { host: "127.0.0.1", port: 0 },
      ops: { port: 0 },
      backends: { service: { type: "rest", baseUrl: backendService.url } },
      logLevel: "error",
    }),
    { keySet, heartbeatMs: 250, backoff: { baseMs: 100, maxMs: 500 } },
  );
  await admin.registerSystem(agency, {
    id: systemId,
    name: `${systemId} node`,
    capabilities: [capability],
    ...(capability === "provider" ? { endpoint: started.providerUrl } : {}),
    keys: [{ kid: key.kid, jwk: publicJwk as never }],
  });
  if (capability === "provider") await admin.approveEndpoint(systemId, started.providerUrl);
  return { running: started, identity };
}
const { running: providerNode, identity: providerNodeIdentity } = await node("MPS.RESIDENCE", "MPS", "provider");
const { running: consumerNode, identity: consumerNodeIdentity } = await node("HCM.NODE", "HCM", "consumer");

const dataset = (id: string, providerSystem: string) => ({
  id,
  providerSystem,
  title: "Dân cư",
  description: "Synthetic citizens",
  scope: "Citizens",
  qualityStatement: "Synthetic",
  accessConditions: "State agencies",
  classification: "restricted" as const,
  methods: ["request" as const],
  upstreamPath: "/citizens",
  keyFields: ["personalId"],
  fields: ["personalId", "fullName", "birthDate", "province"].map((name) => ({
    name,
    type: "string" as const,
    personal: true,
  })),
});
await client(directProviderIdentity).publishDataset(dataset(DIRECT_DATASET, "MPS.POPULATION"));
await client(providerNodeIdentity).publishDataset(dataset(NODE_DATASET, "MPS.RESIDENCE"));
for (const [consumer, provider, datasetId] of [
  [directConsumer, directProviderIdentity, DIRECT_DATASET],
  [consumerNodeIdentity, providerNodeIdentity, NODE_DATASET],
] as const) {
  const request = await client(consumer).requestAccess({
    datasetId,
    fields: FIELDS,
    purpose: "Benchmark of the Agent Node",
    purposeClass: "public-service",
    methods: ["request"],
    validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    legalBasis: "Benchmark",
  });
  await client(provider).decide(request.id, { decision: "approve", reason: "Benchmark approval" });
}
await admin.setAgentConfig("MPS.RESIDENCE", {
  serves: [{ datasetId: NODE_DATASET, backend: "service", rest: { recordPath: "/citizens/records/{key}" } }],
});
await admin.setAgentConfig("HCM.NODE", { calls: [NODE_DATASET] });
const applied = async (running: AgentNode) => {
  for (let attempt = 0; attempt < 200 && !running.central.current; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!running.central.current) throw new Error("a node never received its configuration");
};
await applied(providerNode);
await applied(consumerNode);

const typescriptClient = client(directConsumer);
const viaClient = (index: number) =>
  typescriptClient
    .send(
      exchangeRoutes.getRecord.method,
      pathOf(exchangeRoutes.getRecord, { datasetId: DIRECT_DATASET, key: keys[index % keys.length] as string }),
    )
    .then((response) => response.status);
const viaNodes = async (index: number) => {
  const path = pathOf(exchangeRoutes.getRecord, { datasetId: NODE_DATASET, key: keys[index % keys.length] as string });
  const response = await fetch(`${consumerNode.consumerUrl}${path}`, {
    headers: { Authorization: `Bearer ${apiKey}`, "X-DSCP-User": "bench.user@hcm.gov.vn" },
  });
  await response.arrayBuffer();
  return response.status;
};

try {
  await load(viaClient, WARMUP, CONCURRENCY);
  await load(viaNodes, WARMUP, CONCURRENCY);
  const direct = await load(viaClient, REQUESTS, CONCURRENCY);
  const throughNodes = await load(viaNodes, REQUESTS, CONCURRENCY);
  const directAlone = await load(viaClient, SEQUENTIAL, 1);
  const nodesAlone = await load(viaNodes, SEQUENTIAL, 1);
  const result = {
    requests: REQUESTS,
    concurrency: CONCURRENCY,
    upstreamDelayMs: UPSTREAM_DELAY_MS,
    direct,
    throughNodes,
    throughputRatio: Number((throughNodes.rps / direct.rps).toFixed(3)),
    concurrency1: {
      requests: SEQUENTIAL,
      direct: { p50: directAlone.p50, p99: directAlone.p99 },
      throughNodes: { p50: nodesAlone.p50, p99: nodesAlone.p99 },
      addedLatencyMs: { p50: Number((nodesAlone.p50 - directAlone.p50).toFixed(1)) },
    },
    targets: { throughputRatio: 0.8, addedLatencyP50Ms: 10 },
    measuredAt: new Date().toISOString(),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  await consumerNode.stop();
  await providerNode.stop();
  await directProvider.stop();
  await backendService.stop();
  await runtime.stop();
}
