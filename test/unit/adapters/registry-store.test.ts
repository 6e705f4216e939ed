import { type DynamoDBClient, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoRegistryStore } from "../../../adapters/dynamodb/registry-store.ts";
import { ConflictError } from "../../../domain/problem.ts";
import type { KeyRecord, SystemRecord } from "../../../domain/registry/model.ts";
import { type DynaliteTable, registryTable } from "../dynalite-table.ts";

/* Registering a system against dynalite: the system item commits ownership, and a failure leaves nothing. */

let dynamo: DynaliteTable | undefined;
let client: DynamoDBClient;
const table = "registry";
const x = (fill: string) => fill.repeat(43);

function system(id: string, overrides: Partial<SystemRecord> = {}): SystemRecord {
  return {
    id,
    agencyCode: id.split(".")[0] ?? "",
    name: "System",
    capabilities: ["consumer"],
    roles: [],
    status: "active",
    createdAt: "2026-11-27T08:00:00.000Z",
    ...overrides,
  };
}

function key(systemId: string, kid: string, createdAt = "2026-11-27T08:00:00.000Z"): KeyRecord {
  return {
    systemId,
    kid,
    alg: "EdDSA",
    jwk: { kty: "OKP", crv: "Ed25519", x: x("A"), kid },
    status: "active",
    createdAt,
  };
}

/** The real client, failing the `n`th PutItem it sends from now on, as DynamoDB refusing a write would. */
function failingNthPut(n: number): DynamoDBClient {
  let puts = 0;
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== "send") return Reflect.get(target, property, receiver);
      return (command: unknown) => {
        if (command instanceof PutItemCommand && ++puts === n) return Promise.reject(new Error("refused"));
        return target.send(command as never);
      };
    },
  });
}

beforeAll(async () => {
  dynamo = await registryTable(table);
  client = dynamo.client;
});

afterAll(async () => {
  await dynamo?.stop();
});

describe("registering a system", () => {
  it("writes the system and its keys", async () => {
    const store = new DynamoRegistryStore(client, table);

    await store.createSystem(system("A.ONE"), [key("A.ONE", "k1"), key("A.ONE", "k2")]);

    const found = await store.getSystem("A.ONE");
    expect(found?.system).toMatchObject({ id: "A.ONE" });
    expect(found?.keys.map((stored) => stored.kid).sort()).toEqual(["k1", "k2"]);
  });

  it("attaches no key to a system that already exists", async () => {
    const store = new DynamoRegistryStore(client, table);
    await store.createSystem(system("A.ROLE", { roles: ["supervisor"] }), [key("A.ROLE", "owner")]);

    const again = store.createSystem(system("A.ROLE", { createdAt: "2026-11-27T09:00:00.000Z" }), [
      key("A.ROLE", "planted", "2026-11-27T09:00:00.000Z"),
    ]);

    await expect(again).rejects.toBeInstanceOf(ConflictError);
    const found = await store.getSystem("A.ROLE");
    expect(found?.keys.map((stored) => stored.kid)).toEqual(["owner"]);
    expect(found?.system.roles).toEqual(["supervisor"]);
  });

  it("leaves an existing system's keys alone when the second registration's item is refused", async () => {
    const store = new DynamoRegistryStore(client, table);
    await store.createSystem(system("A.ADMIN", { roles: ["platform-admin"] }), [key("A.ADMIN", "owner")]);
    const later = "2026-11-27T09:00:00.000Z";

    // An item over DynamoDB's 400 KB limit: the store refuses it before any key is written.
    const oversized = store.createSystem(
      system("A.ADMIN", { endpoint: `https://a.example/${"x".repeat(450_000)}`, createdAt: later }),
      [key("A.ADMIN", "planted", later)],
    );

    await expect(oversized).rejects.toThrow();
    expect((await store.getSystem("A.ADMIN"))?.keys.map((stored) => stored.kid)).toEqual(["owner"]);
  });

  it("removes the system and the keys it wrote when a later key write fails", async () => {
    const store = new DynamoRegistryStore(failingNthPut(3), table);

    const failed = store.createSystem(system("A.HALF"), [key("A.HALF", "k1"), key("A.HALF", "k2")]);

    await expect(failed).rejects.toThrow("refused");
    expect(await new DynamoRegistryStore(client, table).getSystem("A.HALF")).toBeUndefined();
    expect(await keyCount("A.HALF")).toBe(0);
  });

  it("lets exactly one of two overlapping registrations of one id own it, with only its keys", async () => {
    const store = new DynamoRegistryStore(client, table);

    const results = await Promise.allSettled([
      store.createSystem(system("A.RACE", { name: "first" }), [key("A.RACE", "first")]),
      store.createSystem(system("A.RACE", { name: "second" }), [key("A.RACE", "second")]),
    ]);

    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
    const found = await store.getSystem("A.RACE");
    expect(found?.keys.map((stored) => stored.kid)).toEqual([found?.system.name]);
  });

  it("does not adopt a key left under the id before the system existed", async () => {
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: marshall({
          pk: "SYSTEM#A.STRAY",
          sk: "KEY#stray",
          kind: "key",
          ...key("A.STRAY", "stray", "2026-01-01T00:00:00.000Z"),
        }),
      }),
    );
    const store = new DynamoRegistryStore(client, table);

    await store.createSystem(system("A.STRAY"), [key("A.STRAY", "own")]);

    expect((await store.getSystem("A.STRAY"))?.keys.map((stored) => stored.kid)).toEqual(["own"]);
  });
});

async function keyCount(systemId: string): Promise<number> {
  const { Count = 0 } = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: marshall({ ":pk": `SYSTEM#${systemId}` }),
    }),
  );
  return Count;
}

describe("listing systems by endpoint status", () => {
  const pending = (id: string) =>
    system(id, { endpoint: `https://${id.toLowerCase()}.example`, endpointStatus: "pending" });
  const ids = (page: { items: readonly SystemRecord[] }) => page.items.map((listed) => listed.id);

  it("lists every agency's pending endpoints, a page at a time, and no longer one once approved", async () => {
    const store = new DynamoRegistryStore(client, table);
    await store.createSystem(pending("LP.ONE"), []);
    await store.createSystem(pending("LQ.TWO"), []);
    await store.createSystem(system("LP.NONE"), []);

    const first = await store.listSystems({ endpointStatus: "pending" }, { limit: 1 });
    const rest = await store.listSystems(
      { endpointStatus: "pending" },
      { limit: 100, ...(first.nextCursor ? { cursor: first.nextCursor } : {}) },
    );
    await store.approveEndpoint("LP.ONE", "https://lp.one.example", { approvedBy: "NDC.OPERATOR", approvedAt: "t" });
    const after = await store.listSystems({ endpointStatus: "pending" }, { limit: 100 });

    expect([...ids(first), ...ids(rest)].filter((id) => id.startsWith("L"))).toEqual(["LP.ONE", "LQ.TWO"]);
    expect(ids(after)).not.toContain("LP.ONE");
    expect(ids(after)).toContain("LQ.TWO");
    expect(ids(await store.listSystems({ endpointStatus: "approved" }, { limit: 100 }))).toContain("LP.ONE");
  });

  it("lists one agency's pending endpoints only, and an endpoint moved since as pending again", async () => {
    const store = new DynamoRegistryStore(client, table);
    await store.createSystem(pending("MP.ONE"), []);
    await store.createSystem(pending("MPX.ONE"), []);
    await store.createSystem(system("MP.TWO"), []);

    await store.changeEndpoint("MP.TWO", "https://mp.two.example");
    const page = await store.listSystems({ agency: "MP", endpointStatus: "pending" }, { limit: 100 });

    expect(ids(page)).toEqual(["MP.ONE", "MP.TWO"]);
    expect(page.items[1]).not.toHaveProperty("gsi2sk");
  });

  it("refuses a cursor of another agency's listing", async () => {
    const store = new DynamoRegistryStore(client, table);
    await store.createSystem(system("NQ.ONE"), []);
    await store.createSystem(system("NQ.TWO"), []);
    const { nextCursor } = await store.listSystems({ agency: "NQ" }, { limit: 1 });

    const other = store.listSystems({ agency: "NR" }, { limit: 1, cursor: String(nextCursor) });

    await expect(other).rejects.toMatchObject({
      invalidParams: [{ name: "cursor", reason: "belongs to another listing" }],
    });
  });
});
