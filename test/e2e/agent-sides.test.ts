import { createHash } from "node:crypto";
import { createServer, type RequestListener } from "node:http";
import { createRemoteJWKSet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, QueryRequest, RecordRequest } from "../../agent/backends/types.ts";
import { BackendUnavailableError } from "../../agent/backends/types.ts";
import { consumerApi } from "../../agent/consumer-api.ts";
import { createLogger } from "../../agent/ops/log.ts";
import { AgentMetrics } from "../../agent/ops/metrics.ts";
import { PlatformClient } from "../../agent/platform-client.ts";
import { type ProviderState, providerApi } from "../../agent/provider.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import { listenLocally } from "../../demo/upstream.ts";
import type { ServedDataset } from "../../domain/agent/config.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorld, runId, type World } from "./world.ts";

/*
 * The Agent Node's two sides against the platform on the local runtime, no mocks on the path: an
 * internal client calls a consumer node with plain HTTP; the node signs and forwards to the
 * platform, which calls the provider node, which verifies the platform's token and answers from
 * its backend. (The central configuration is given to both sides directly here; the nodes whole,
 * configured from the platform, are exercised once the platform serves their configuration.)
 */

const { apiUrl, audience } = target();
const run = runId();
const population: Citizen[] = syntheticPopulation(12, 11);
const someone = population[2] as Citizen;
const API_KEY = `hr-portal-${run}`;

/** The provider's records, as a backend answers them; `down` makes it unreachable. */
class CitizensBackend implements Backend {
  readonly name = "registry";
  readonly type = "rest" as const;
  down = false;
  validate(_dataset: ServedDataset): void {}
  async getRecord(request: RecordRequest): Promise<Record<string, unknown> | undefined> {
    if (this.down) throw new BackendUnavailableError("connect ECONNREFUSED 10.0.12.5:5432");
    const found = population.find((citizen) => citizen.personalId === request.key);
    return found && { ...found };
  }
  async query(request: QueryRequest): Promise<{ items: Record<string, unknown>[] }> {
    return { items: population.slice(0, request.limit).map((citizen) => ({ ...citizen })) };
  }
  async check(): Promise<void> {}
  async close(): Promise<void> {}
}

const backend = new CitizensBackend();
const providerMetrics = new AgentMetrics();
/** Calls the platform made to the provider node (target and token), to replay one. */
const platformCalls: Array<{ method: string; target: string; authorization: string }> = [];
let world: World;
let citizens: string;
let providerNode: { url: string; stop: () => Promise<void> };
let consumerNode: { url: string; stop: () => Promise<void> };
let platform: PlatformClient;

async function listen(handler: RequestListener) {
  return listenLocally(createServer(handler));
}

beforeAll(async () => {
  let state: ProviderState | undefined;
  const provider = providerApi({
    systemId: `P${run}.POPULATION`,
    issuer: audience,
    keySet: createRemoteJWKSet(new URL(`${apiUrl}v1/platform/keys`)),
    state: () => state,
    deliveryStore: () => Promise.reject(new Error("no subscriptions here")),
    metrics: providerMetrics,
    logger: createLogger("silent"),
  });
  providerNode = await listen((request, response) => {
    platformCalls.push({
      method: String(request.method),
      target: String(request.url),
      authorization: String(request.headers.authorization ?? ""),
    });
    provider(request, response);
  });
  world = await createWorld({ run, providerEndpoint: providerNode.url });
  citizens = `${world.provider.systemId}.CITIZENS`;
  await world.client(world.provider).publishDataset(citizensDataset(citizens, world.provider.systemId));
  state = {
    serves: [{ dataset: { datasetId: citizens, backend: "registry", path: "/citizens" }, path: "/citizens", backend }],
    subscriptions: [],
  };
  const request = await world.client(world.consumer).requestAccess({
    datasetId: citizens,
    fields: ["personalId", "fullName", "province"],
    purpose: "Verify residence for household registration",
    purposeClass: "public-service",
    methods: ["request"],
    validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    legalBasis: "Decree, Art. 4.1",
  });
  await world
    .client(world.provider)
    .decide(request.id, { decision: "approve", reason: "Within the portal's functions" });
  platform = new PlatformClient({ apiUrl, audience, identity: () => world.consumer });
  consumerNode = await listen(
    consumerApi({
      clients: [{ name: "hr-portal", apiKeySha256: createHash("sha256").update(API_KEY).digest("hex") }],
      platform,
      calls: () => new Set([citizens]),
      metrics: new AgentMetrics(),
      logger: createLogger("silent"),
    }),
  );
});

afterAll(async () => {
  platform?.close();
  await consumerNode?.stop();
  await providerNode?.stop();
});

const viaConsumerNode = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${consumerNode.url}${path}`, { headers: { "X-API-Key": API_KEY, ...headers } });

describe("an internal client through the consumer and provider nodes", () => {
  it("gets only the permitted fields of the provider's record, with the platform's transaction id", async () => {
    const response = await viaConsumerNode(`/v1/exchange/${citizens}/records/${someone.personalId}`, {
      "X-DSCP-User": "officer.lan@hcm.gov.vn",
      "X-DSCP-Case": `CASE-${run}`,
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("x-transaction-id")).toBeTruthy();
    expect(await response.json()).toEqual({
      datasetId: citizens,
      key: someone.personalId,
      record: { personalId: someone.personalId, fullName: someone.fullName, province: someone.province },
    });
    expect(providerMetrics.requests.get({ side: "provider", outcome: "ok" })).toBeGreaterThan(0);
  });

  it("queries a page through both nodes", async () => {
    const response = await fetch(`${consumerNode.url}/v1/exchange/${citizens}/query`, {
      method: "POST",
      headers: { "X-API-Key": API_KEY, "Content-Type": "application/json" },
      body: JSON.stringify({ limit: 3 }),
    });

    expect(response.status).toBe(200);
    expect(((await response.json()) as { items: unknown[] }).items).toHaveLength(3);
  });

  it("reads a problem with the platform's status when the provider's backend is down", async () => {
    backend.down = true;
    try {
      const response = await viaConsumerNode(`/v1/exchange/${citizens}/records/${someone.personalId}`);

      expect(response.status).toBe(502);
      expect(response.headers.get("content-type")).toContain("application/problem+json");
      expect(providerMetrics.backendErrors.get({ backend: "registry" })).toBe(1);
    } finally {
      backend.down = false;
    }
  });
});

describe("the provider node", () => {
  it("refuses and counts a replayed platform call", async () => {
    const call = platformCalls.find((seen) => seen.method === "GET") as (typeof platformCalls)[number];
    const before = providerMetrics.refusedPlatformCalls.get({ reason: "replayed" });

    const replayed = await fetch(`${providerNode.url}${call.target}`, {
      headers: { Authorization: call.authorization },
    });

    expect(replayed.status).toBe(401);
    expect(providerMetrics.refusedPlatformCalls.get({ reason: "replayed" })).toBe(before + 1);
  });

  it("refuses and counts a call not signed by the platform", async () => {
    const before = providerMetrics.refusedPlatformCalls.get({ reason: "forged" });

    const forged = await fetch(`${providerNode.url}/citizens/records/${someone.personalId}`, {
      headers: { Authorization: "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln" },
    });

    expect(forged.status).toBe(401);
    expect(providerMetrics.refusedPlatformCalls.get({ reason: "forged" })).toBe(before + 1);
  });
});
