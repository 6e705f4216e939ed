import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoAgentNodeStore } from "../../../adapters/dynamodb/agent-node-store.ts";
import { DynamoRegistryStore } from "../../../adapters/dynamodb/registry-store.ts";
import type { AgentConfigRecord, Heartbeat } from "../../../domain/agent/nodes.ts";
import { type DynaliteTable, registryTable } from "../dynalite-table.ts";

/* Agent Node configurations and heartbeats in the registry table, against dynalite. */

let dynamo: DynaliteTable | undefined;
let store: DynamoAgentNodeStore;
const node = { agencyCode: "HCM", name: "Portal node" };

const record = (systemId: string, revision: number, updatedBy = "NDC.OPERATOR"): AgentConfigRecord => ({
  systemId,
  revision,
  config: { serves: [], calls: [`MPS.POPULATION.R${revision}`], subscriptions: [], publishes: [] },
  updatedAt: "2026-11-30T08:00:00.000Z",
  updatedBy,
});

const heartbeat = (systemId: string, overrides: Partial<Heartbeat> = {}): Heartbeat => ({
  systemId,
  agencyCode: systemId.split(".")[0] ?? "",
  name: "Portal node",
  version: "0.1.0",
  configRevision: 0,
  health: "ok",
  startedAt: "2026-11-30T07:00:00.000Z",
  lastSeenAt: "2026-11-30T08:00:00.000Z",
  ...overrides,
});

beforeAll(async () => {
  dynamo = await registryTable("agent-nodes");
  store = new DynamoAgentNodeStore(dynamo.client, dynamo.table);
});

afterAll(async () => {
  await dynamo?.stop();
});

describe("the Agent Node store", () => {
  it("writes a revision only over the one it follows", async () => {
    const first = await store.putConfig(record("HCM.A", 1), node);
    const again = await store.putConfig(record("HCM.A", 1, "HCM.OTHER"), node);
    const skipped = await store.putConfig(record("HCM.A", 3), node);
    const second = await store.putConfig(record("HCM.A", 2), node);

    expect([first, again, skipped, second]).toEqual([true, false, false, true]);
    expect(await store.getConfig("HCM.A")).toEqual(record("HCM.A", 2));
  });

  it("stores every one of many concurrent changes as its own revision", async () => {
    const change = async (writer: number) => {
      for (;;) {
        const current = await store.getConfig("HCM.B");
        if (await store.putConfig(record("HCM.B", (current?.revision ?? 0) + 1, `HCM.W${writer}`), node)) return;
      }
    };

    await Promise.all([1, 2, 3, 4].map(change));

    expect((await store.getConfig("HCM.B"))?.revision).toBe(4);
    expect((await store.listNodes({ agency: "HCM" }, { limit: 10 })).items).toContainEqual(
      expect.objectContaining({ systemId: "HCM.B", currentConfigRevision: 4 }),
    );
  });

  it("answers a heartbeat with the current revision, and keeps the newest heartbeat", async () => {
    await store.putConfig(record("HCM.C", 1), node);

    const answered = await store.recordHeartbeat(heartbeat("HCM.C", { configRevision: 1, detail: "warming up" }));
    const late = await store.recordHeartbeat(
      heartbeat("HCM.C", { version: "0.0.9", lastSeenAt: "2026-11-30T07:59:00.000Z" }),
    );
    const listed = (await store.listNodes({}, { limit: 50 })).items.find((item) => item.systemId === "HCM.C");

    expect([answered, late]).toEqual([1, 1]);
    expect(listed).toEqual({
      systemId: "HCM.C",
      agencyCode: "HCM",
      name: "Portal node",
      currentConfigRevision: 1,
      version: "0.1.0",
      configRevision: 1,
      health: "ok",
      detail: "warming up",
      startedAt: "2026-11-30T07:00:00.000Z",
      lastSeenAt: "2026-11-30T08:00:00.000Z",
    });
  });

  it("answers 0 to a node with no configuration, and lists nodes by agency", async () => {
    const answered = await store.recordHeartbeat(heartbeat("DN.NODE"));
    const own = await store.listNodes({ agency: "DN" }, { limit: 10 });

    expect(answered).toBe(0);
    expect(own.items.map((item) => item.systemId)).toEqual(["DN.NODE"]);
  });

  it("keeps its items apart from the system's, so authentication reads none of them", async () => {
    await store.recordHeartbeat(heartbeat("HCM.D"));
    const registry = new DynamoRegistryStore((dynamo as DynaliteTable).client, (dynamo as DynaliteTable).table);

    expect(await registry.getSystem("HCM.D")).toBeUndefined();
  });
});
