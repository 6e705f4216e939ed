import { createRemoteJWKSet } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BackendConfigError, BackendUnavailableError } from "../../../agent/backends/types.ts";
import { LocalConfigError, parseLocalConfig } from "../../../agent/config.ts";
import { type AgentNodeDeps, startAgentNode } from "../../../agent/node.ts";
import type { AgentConfig } from "../../../domain/agent/config.ts";
import { FakeBackend, fakeNodeRoutes, fakePlatformKeys, nodeKey, serve, sha256Hex } from "./helpers.ts";

const SYSTEM = "MPS.POPULATION";
const BASE = "/population/citizens";
const central: AgentConfig = {
  serves: [
    { datasetId: "MPS.POPULATION.CITIZENS", backend: "registry", path: BASE, rest: { recordPath: "/citizens/{key}" } },
  ],
  calls: [],
  subscriptions: [],
  publishes: [],
};

let platformKeys: Awaited<ReturnType<typeof fakePlatformKeys>>;
let key: Awaited<ReturnType<typeof nodeKey>>;

beforeAll(async () => {
  platformKeys = await fakePlatformKeys();
  key = await nodeKey(SYSTEM);
});
afterAll(() => platformKeys.stop());

/** The node's file: every listener on a free port of 127.0.0.1, one REST backend. */
function localConfig(apiUrl: string) {
  return parseLocalConfig({
    platform: { apiUrl, audience: platformKeys.issuer, systemId: SYSTEM, keyFile: key.keyFile },
    consumer: { port: 0, clients: [{ name: "hr", apiKeySha256: sha256Hex("k") }] },
    provider: { host: "127.0.0.1", port: 0 },
    ops: { port: 0 },
    backends: { registry: { type: "rest", baseUrl: "http://127.0.0.1:1" } },
    logLevel: "silent",
  });
}

async function startWith(backend: FakeBackend, deps: AgentNodeDeps = {}) {
  const platform = await fakeNodeRoutes(platformKeys, key.publicJwk, SYSTEM);
  platform.set(central);
  const node = await startAgentNode(localConfig(platform.url), {
    createBackend: () => backend,
    keySet: createRemoteJWKSet(new URL(platformKeys.jwksUrl)),
    heartbeatMs: 20,
    backoff: { baseMs: 10, maxMs: 40 },
    ...deps,
  });
  return {
    platform,
    node,
    stop: async () => {
      await node.stop();
      await platform.stop();
    },
  };
}

describe("the Agent Node", () => {
  it("is ready once its configuration is applied, and serves health and Prometheus metrics", async () => {
    const { node, stop } = await startWith(new FakeBackend("registry", new Map()));
    try {
      await vi.waitFor(async () => expect((await fetch(`${node.opsUrl}/readyz`)).status).toBe(200));
      const health = await fetch(`${node.opsUrl}/healthz`);
      const metrics = await (await fetch(`${node.opsUrl}/metrics`)).text();

      expect(health.status).toBe(200);
      expect(metrics).toContain("# TYPE dscp_agent_request_duration_seconds histogram");
      expect(metrics).toContain("dscp_agent_config_revision 1");
    } finally {
      await stop();
    }
  });

  it("is not ready while a backend is down, and says which", async () => {
    const backend = new FakeBackend("registry", new Map());
    backend.failure = new BackendUnavailableError("connect ECONNREFUSED");
    const { node, stop } = await startWith(backend);
    try {
      await vi.waitFor(() => expect(node.central.current?.revision).toBe(1));
      const response = await fetch(`${node.opsUrl}/readyz`);

      expect(response.status).toBe(503);
      expect(((await response.json()) as { checks: object }).checks).toMatchObject({
        "backend:registry": "unavailable",
      });
    } finally {
      await stop();
    }
  });

  it("keeps answering health while the platform cannot be reached", async () => {
    const { node, platform, stop } = await startWith(new FakeBackend("registry", new Map()));
    platform.state.down = true;
    try {
      await vi.waitFor(() => expect(node.central.platformReachable).toBe(false));

      expect((await fetch(`${node.opsUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${node.opsUrl}/readyz`)).status).toBe(503);
    } finally {
      await stop();
    }
  });

  it("refuses to start with a misconfigured backend, naming the setting", async () => {
    const start = startAgentNode(localConfig("http://127.0.0.1:1"), {
      createBackend: () => {
        throw new BackendConfigError("baseUrl", "must be an http(s) URL");
      },
    });

    await expect(start).rejects.toThrow(LocalConfigError);
    await expect(start).rejects.toThrow(/backends\.registry\.baseUrl: must be an http\(s\) URL/);
  });

  it("refuses to start on a port already taken, naming the listener's setting", async () => {
    const taken = await serve(() => {});
    const config = localConfig("http://127.0.0.1:1");
    const port = Number(new URL(taken.url).port);
    try {
      const start = startAgentNode(
        { ...config, consumer: { ...config.consumer, port } },
        { createBackend: (name) => new FakeBackend(name, new Map()) },
      );

      await expect(start).rejects.toThrow(/consumer\.port: cannot listen on 127\.0\.0\.1:\d+/);
    } finally {
      await taken.stop();
    }
  });

  it("finishes a call under way when stopped, then closes its backends", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const backend = new FakeBackend("registry", new Map([["1", { id: "1" }]]));
    let entered = false;
    const slow = Object.assign(backend, {
      getRecord: async (request: Parameters<FakeBackend["getRecord"]>[0]) => {
        entered = true;
        await held;
        return FakeBackend.prototype.getRecord.call(backend, request);
      },
    });
    const { node, stop } = await startWith(slow);
    await vi.waitFor(() => expect(node.central.current?.revision).toBe(1));
    const url = new URL(`${BASE}/records/1`, node.providerUrl);
    const token = await platformKeys.call(SYSTEM, { method: "GET", path: url.pathname });
    const call = fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    await vi.waitFor(() => expect(entered).toBe(true));

    const stopped = stop();
    release();

    expect((await call).status).toBe(200);
    await stopped;
    expect(backend.closed).toBe(true);
    await expect(fetch(url)).rejects.toThrow();
  });
});
