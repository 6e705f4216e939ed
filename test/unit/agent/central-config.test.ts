import { createRemoteJWKSet } from "jose";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { BackendConfigError } from "../../../agent/backends/types.ts";
import { CentralConfig, configProblems, verifySignedConfig } from "../../../agent/central-config.ts";
import { createLogger } from "../../../agent/ops/log.ts";
import { AgentMetrics } from "../../../agent/ops/metrics.ts";
import { backoffDelay, PlatformClient } from "../../../agent/platform-client.ts";
import type { AgentConfig } from "../../../domain/agent/config.ts";
import { FakeBackend, fakeNodeRoutes, fakePlatformKeys, nodeKey } from "./helpers.ts";

const SYSTEM = "MPS.POPULATION";
const AUDIENCE = "urn:dscp:test";
const served = (backend = "registry"): AgentConfig => ({
  serves: [
    {
      datasetId: "MPS.POPULATION.CITIZENS",
      backend,
      path: "/population/citizens",
      rest: { recordPath: "/citizens/{key}" },
    },
  ],
  calls: ["MOH.IMMUNISATION.VACCINATIONS"],
  subscriptions: [],
  publishes: [],
});
const backends = new Map([["registry", new FakeBackend("registry", new Map())]]);
const localBackends = { registry: { type: "rest" as const, baseUrl: "http://127.0.0.1:1" } };

let platformKeys: Awaited<ReturnType<typeof fakePlatformKeys>>;
let forger: Awaited<ReturnType<typeof fakePlatformKeys>>;
let key: Awaited<ReturnType<typeof nodeKey>>;

beforeAll(async () => {
  platformKeys = await fakePlatformKeys(AUDIENCE);
  forger = await fakePlatformKeys(AUDIENCE);
  key = await nodeKey(SYSTEM);
  return async () => {
    await platformKeys.stop();
    await forger.stop();
  };
});

const running: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

async function startNode(options: { logLines?: string[] } = {}) {
  const platform = await fakeNodeRoutes(platformKeys, key.publicJwk, SYSTEM);
  const client = new PlatformClient({ apiUrl: platform.url, audience: AUDIENCE, identity: () => key.identity });
  const central = new CentralConfig({
    client,
    systemId: SYSTEM,
    issuer: AUDIENCE,
    keySet: createRemoteJWKSet(new URL(platformKeys.jwksUrl)),
    backends,
    localBackends,
    version: "0.1.0",
    startedAt: new Date(),
    logger: createLogger("info", (line) => options.logLines?.push(line)),
    metrics: new AgentMetrics(),
    heartbeatMs: 20,
    refreshMs: 60_000,
    backoff: { baseMs: 10, maxMs: 40 },
  });
  running.push(async () => {
    await central.stop();
    client.close();
    await platform.stop();
  });
  return { platform, central };
}

describe("the central configuration", () => {
  it("is fetched at start, verified and applied, and the heartbeat reports its revision", async () => {
    const { platform, central } = await startNode();
    platform.set(served());

    central.start();

    await vi.waitFor(() => expect(platform.state.beats.at(-1)?.configRevision).toBe(1));
    expect(central.current?.calls).toEqual(new Set(["MOH.IMMUNISATION.VACCINATIONS"]));
    expect(central.current?.provider.serves[0]).toMatchObject({
      path: "/population/citizens",
      backend: backends.get("registry"),
    });
    expect(platform.state.beats.at(-1)).toMatchObject({ version: "0.1.0", health: "ok" });
  });

  it("reaches the node when changed on the platform: the heartbeat reports the new revision", async () => {
    const { platform, central } = await startNode();
    platform.set(served());
    central.start();
    await vi.waitFor(() => expect(central.current?.revision).toBe(1));

    platform.set({ ...served(), calls: ["MOH.IMMUNISATION.VACCINATIONS", "MOF.TAX.PAYERS"] });

    await vi.waitFor(() => expect(central.current?.revision).toBe(2));
    expect(central.current?.calls.has("MOF.TAX.PAYERS")).toBe(true);
  });

  it("asks with the revision it holds and is answered 304 while nothing changed", async () => {
    const { platform, central } = await startNode();
    platform.set(served());
    await central.refresh();

    expect(await central.refresh()).toBe("unchanged");
  });

  it("keeps the previous configuration, reports degraded health and names the setting when a backend is unknown", async () => {
    const logLines: string[] = [];
    const { platform, central } = await startNode({ logLines });
    platform.set(served());
    await central.refresh();

    platform.set(served("warehouse"));
    const result = await central.refresh();

    expect(result).toBe("rejected");
    expect(central.current?.revision).toBe(1);
    expect((await central.health()).health).toBe("degraded");
    expect(logLines.join("")).toContain("serves[0].backend: no backend named warehouse in the node's file (backends)");
  });

  it("is not applied when signed by anyone but the platform", async () => {
    const { platform, central } = await startNode();
    platform.state.signer = forger;
    platform.set(served());

    expect(await central.refresh()).toBe("rejected");
    expect(central.current).toBeUndefined();
    expect((await central.health()).detail).toMatch(/signature does not verify/);
  });

  it("keeps serving while the platform is lost, retries, and catches up when it returns", async () => {
    const { platform, central } = await startNode();
    platform.set(served());
    platform.state.down = true;
    central.start();
    await vi.waitFor(() => expect(central.platformReachable).toBe(false));
    await vi.waitFor(async () => expect((await central.health()).health).toBe("failing"));

    platform.state.down = false;

    await vi.waitFor(() => expect(central.current?.revision).toBe(1));
  });
});

describe("a configuration checked against the node's backends", () => {
  it("names the setting a backend refuses, below the served dataset", () => {
    const strict = new FakeBackend("registry", new Map(), () => {
      throw new BackendConfigError("sql.table", "must be an identifier");
    });

    expect(configProblems(served(), new Map([["registry", strict]]), localBackends)).toEqual([
      { setting: "serves[0].sql.table", message: "must be an identifier" },
    ]);
  });

  it("refuses a subscription whose store is not a sql backend", () => {
    const config = {
      ...served(),
      subscriptions: [{ subscriptionId: "s", datasetId: "d", store: "registry", table: "t" }],
    };

    expect(configProblems(config, backends, localBackends)).toEqual([
      { setting: "subscriptions[0].store", message: "backend registry is not a sql backend" },
    ]);
  });

  it("takes nothing but a configuration typed as one: a platform call's token is refused", async () => {
    const token = await platformKeys.call(SYSTEM, { method: "GET", path: "/x" });

    await expect(
      verifySignedConfig(token, createRemoteJWKSet(new URL(platformKeys.jwksUrl)), {
        issuer: AUDIENCE,
        systemId: SYSTEM,
      }),
    ).rejects.toThrow(/typ is JWT/);
  });
});

describe("backoff", () => {
  it("grows exponentially with full jitter up to its ceiling", () => {
    const top = () => 1;

    expect([1, 2, 3, 4, 10].map((attempt) => backoffDelay(attempt, { baseMs: 1000, maxMs: 8000 }, top))).toEqual([
      1000, 2000, 4000, 8000, 8000,
    ]);
    expect(backoffDelay(3, { baseMs: 1000 }, () => 0)).toBe(500);
  });
});
