import { createRemoteJWKSet } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackendQueryError, BackendUnavailableError } from "../../../agent/backends/types.ts";
import { AgentMetrics } from "../../../agent/ops/metrics.ts";
import { type DeliveryApplier, type ProviderState, providerApi } from "../../../agent/provider.ts";
import type { DeliveredRecord } from "../../../domain/delivery/model.ts";
import type { ProblemDetails } from "../../../domain/problem.ts";
import { FakeBackend, fakePlatformKeys, quietLogger, serve } from "./helpers.ts";

const SYSTEM = "MPS.POPULATION";
const BASE = "/population/citizens";
const backend = new FakeBackend(
  "registry",
  new Map([
    ["001", { personalId: "001", fullName: "Nguyen Van A", province: "HN" }],
    ["002", { personalId: "002", fullName: "Tran Thi B", province: "HCM" }],
  ]),
);
const applied: DeliveredRecord[][] = [];
let storeDown = false;
const store: DeliveryApplier = {
  apply: async (records) => {
    if (storeDown) throw new Error("connection refused");
    applied.push([...records]);
    return { applied: records.length, duplicates: 0, stale: 0 };
  },
};
const state: ProviderState = {
  serves: [{ dataset: { datasetId: "MPS.POPULATION.CITIZENS", backend: "registry" }, path: BASE, backend }],
  subscriptions: [
    { subscriptionId: "MOH.X@MPS.POPULATION", datasetId: "MOH.VACCINATIONS", store: "local", table: "vaccinations" },
  ],
};

let platform: Awaited<ReturnType<typeof fakePlatformKeys>>;
let node: Awaited<ReturnType<typeof serve>>;
const metrics = new AgentMetrics();

beforeAll(async () => {
  platform = await fakePlatformKeys();
  node = await serve(
    providerApi({
      systemId: SYSTEM,
      issuer: platform.issuer,
      keySet: createRemoteJWKSet(new URL(platform.jwksUrl), { cooldownDuration: 0 }),
      state: () => state,
      deliveryStore: async () => store,
      metrics,
      logger: quietLogger,
    }),
  );
});

afterAll(async () => {
  await node.stop();
  await platform.stop();
});

/** Calls the node as the platform does: a token for this very request. */
async function platformCall(method: "GET" | "POST", target: string, body?: unknown, audience = SYSTEM) {
  const url = new URL(target, node.url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const token = await platform.call(audience, {
    method,
    path: url.pathname,
    query: url.searchParams,
    ...(text ? { body: text } : {}),
  });
  return { url, token, text };
}

async function send(method: "GET" | "POST", target: string, body?: unknown) {
  const { url, token, text } = await platformCall(method, target, body);
  return fetch(url, { method, headers: { Authorization: `Bearer ${token}` }, ...(text ? { body: text } : {}) });
}

const problemOf = async (response: Response) => (await response.json()) as ProblemDetails;

describe("the provider side", () => {
  it("answers a verified record call from the dataset's backend, with the fields asked for", async () => {
    const response = await send("GET", `${BASE}/records/001?fields=fullName`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ fullName: "Nguyen Van A" });
  });

  it("answers a verified query with a page of the backend's records", async () => {
    const response = await send("POST", `${BASE}/query`, { filters: { province: "HCM" }, limit: 10 });

    expect(await response.json()).toEqual({ items: [{ personalId: "002", fullName: "Tran Thi B", province: "HCM" }] });
  });

  it("answers 404 for a record the backend does not hold", async () => {
    expect((await send("GET", `${BASE}/records/999`)).status).toBe(404);
  });

  it("refuses and counts a token signed by anyone but the platform", async () => {
    const before = metrics.refusedPlatformCalls.get({ reason: "forged" });
    const forger = await fakePlatformKeys();
    const url = new URL(`${BASE}/records/001`, node.url);
    const token = await forger.call(SYSTEM, { method: "GET", path: url.pathname });
    await forger.stop();

    const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });

    expect(response.status).toBe(401);
    expect((await problemOf(response)).type).toBe("urn:dscp:problem:auth:bad-signature");
    expect(metrics.refusedPlatformCalls.get({ reason: "forged" })).toBe(before + 1);
  });

  it("refuses a token for another system, and one signed for another request", async () => {
    const other = await platformCall("GET", `${BASE}/records/001`, undefined, "MOF.TAX");
    const elsewhere = await platformCall("GET", `${BASE}/records/002`);

    const forOther = await fetch(other.url, { headers: { Authorization: `Bearer ${other.token}` } });
    const moved = await fetch(new URL(`${BASE}/records/001`, node.url), {
      headers: { Authorization: `Bearer ${elsewhere.token}` },
    });

    expect(forOther.status).toBe(401);
    expect(moved.status).toBe(401);
    expect((await problemOf(moved)).detail).toBe("the token was signed for another request");
  });

  it("refuses a query whose body is not the one signed", async () => {
    const { url, token } = await platformCall("POST", `${BASE}/query`, { filters: {} });

    const response = await fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ filters: { province: "HN" } }),
    });

    expect(response.status).toBe(401);
  });

  it("refuses and counts a replayed call", async () => {
    const { url, token } = await platformCall("GET", `${BASE}/records/001`);
    const first = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });

    const again = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });

    expect(first.status).toBe(200);
    expect(again.status).toBe(401);
    expect((await problemOf(again)).type).toBe("urn:dscp:problem:auth:token-replayed");
    expect(metrics.refusedPlatformCalls.get({ reason: "replayed" })).toBe(1);
  });

  it("fetches the key set again when the platform signs with a key it has just published", async () => {
    platform.rotate(true);

    expect((await send("GET", `${BASE}/records/001`)).status).toBe(200);
  });

  it("answers 502 when the backend is down, and 400 when it refuses the query", async () => {
    backend.failure = new BackendUnavailableError("connect ECONNREFUSED");
    const down = await send("GET", `${BASE}/records/001`);
    backend.failure = new BackendQueryError("province is not filterable");
    const refused = await send("POST", `${BASE}/query`, { filters: { fullName: "x" } });
    backend.failure = undefined;

    expect(down.status).toBe(502);
    expect((await problemOf(down)).type).toBe("urn:dscp:problem:backend-unavailable");
    expect(refused.status).toBe(400);
    expect(metrics.backendErrors.get({ backend: "registry" })).toBe(1);
  });

  it("refuses a query limit beyond a backend page, naming it", async () => {
    const response = await send("POST", `${BASE}/query`, { limit: 5000 });

    expect((await problemOf(response)).invalidParams).toEqual([
      { name: "limit", reason: "must be an integer from 1 to 1000" },
    ]);
  });
});

describe("pushed deliveries", () => {
  const push = {
    messageId: "b1.MPS.MOH.X.0.abc",
    datasetId: "MOH.VACCINATIONS",
    attempt: 1,
    records: [
      { idempotencyKey: "MOH.VACCINATIONS:1:v1", key: "1", version: 1, op: "upsert", record: {}, changedAt: "" },
    ],
  };

  it("are verified, then handed to the subscription's store", async () => {
    const response = await send("POST", "/dscp/deliveries", push);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ applied: 1, duplicates: 0, stale: 0 });
    expect(applied.at(-1)).toEqual(push.records);
    expect(metrics.deliveriesApplied.get({ result: "applied" })).toBe(1);
  });

  it("answer 503 when the store cannot apply them, so the platform delivers again", async () => {
    storeDown = true;
    try {
      expect((await send("POST", "/dscp/deliveries", push)).status).toBe(503);
    } finally {
      storeDown = false;
    }
  });

  it("are refused unsigned, and nothing is applied", async () => {
    const before = applied.length;

    const response = await fetch(new URL("/dscp/deliveries", node.url), { method: "POST", body: JSON.stringify(push) });

    expect(response.status).toBe(401);
    expect(applied.length).toBe(before);
  });
});

describe("a provider side below its endpoint's path", () => {
  it("finds datasets below the registered endpoint's path, the token naming the whole path", async () => {
    const below = await serve(
      providerApi({
        systemId: SYSTEM,
        basePath: "/dscp",
        issuer: platform.issuer,
        keySet: createRemoteJWKSet(new URL(platform.jwksUrl)),
        state: () => state,
        deliveryStore: async () => store,
        metrics: new AgentMetrics(),
        logger: quietLogger,
      }),
    );
    const call = async (path: string) => {
      const token = await platform.call(SYSTEM, { method: "GET", path });
      return fetch(new URL(path, below.url), { headers: { Authorization: `Bearer ${token}` } });
    };
    try {
      expect((await call(`/dscp${BASE}/records/001`)).status).toBe(200);
      expect((await call(`${BASE}/records/001`)).status).toBe(404);
    } finally {
      await below.stop();
    }
  });
});

describe("a provider side with no configuration yet", () => {
  it("answers a verified push 503, so the platform delivers it again later", async () => {
    const unconfigured = await serve(
      providerApi({
        systemId: SYSTEM,
        issuer: platform.issuer,
        keySet: createRemoteJWKSet(new URL(platform.jwksUrl)),
        state: () => undefined,
        deliveryStore: async () => store,
        metrics: new AgentMetrics(),
        logger: quietLogger,
      }),
    );
    try {
      const body = JSON.stringify({ datasetId: "MOH.VACCINATIONS", records: [] });
      const token = await platform.call(SYSTEM, { method: "POST", path: "/dscp/deliveries", body });

      const response = await fetch(new URL("/dscp/deliveries", unconfigured.url), {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
        body,
      });

      expect(response.status).toBe(503);
    } finally {
      await unconfigured.stop();
    }
  });
});
