import { type DynamoDBClient, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoIntegratedStore } from "../../../adapters/dynamodb/integrated-store.ts";
import type { ApplyInput } from "../../../domain/sync/model.ts";
import { integratedTable } from "../dynalite-table.ts";

/* The integrated store's window writes against dynalite: versions, history, replays, and a writer racing it. */

let client: DynamoDBClient;
let stop: () => Promise<void>;
const table = "integrated";
const at = "2026-11-27T08:00:00.000Z";
const upsert = (key: string, fullName: string, batchId: string, index: number, sequence?: number): ApplyInput => ({
  datasetId: "MPS.POPULATION.REGISTER",
  key,
  operation: { op: "upsert", record: { personalId: key, fullName } },
  batchId,
  index,
  ...(sequence ? { sequence } : {}),
  fullSync: false,
  at,
});

beforeAll(async () => {
  ({ client, stop } = await integratedTable(table));
});

afterAll(async () => {
  await stop?.();
});

async function history(key: string) {
  const { Items = [] } = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :v)",
      ExpressionAttributeValues: { ":pk": { S: `MPS.POPULATION.REGISTER#${key}` }, ":v": { S: "V#" } },
    }),
  );
  return Items.map((item) => unmarshall(item)).map(({ version, op, record, batchId }) => ({
    version,
    op,
    record,
    batchId,
  }));
}

describe("DynamoIntegratedStore.applyWindow", () => {
  it("applies one key's operations in order, keeping each superseded version as history", async () => {
    const store = new DynamoIntegratedStore(client, table);
    const results = await store.applyWindow([
      upsert("001", "An", "batch-1", 0),
      upsert("002", "Bình", "batch-1", 1),
      upsert("001", "An (2)", "batch-1", 2),
      { ...upsert("001", "", "batch-1", 3), operation: { op: "delete", key: "001" } },
      upsert("002", "Bình", "batch-1", 4),
    ]);

    expect(results.map((result) => [result.outcome, result.change?.version])).toEqual([
      ["created", 1],
      ["created", 1],
      ["updated", 2],
      ["deleted", 3],
      ["unchanged", undefined],
    ]);
    expect(await store.get("MPS.POPULATION.REGISTER", "001")).toBeUndefined();
    expect(await store.get("MPS.POPULATION.REGISTER", "002")).toMatchObject({ version: 1, sourceBatch: "batch-1" });
    expect(await history("001")).toEqual([
      { version: 1, op: "upsert", record: { personalId: "001", fullName: "An" }, batchId: "batch-1" },
      { version: 2, op: "upsert", record: { personalId: "001", fullName: "An (2)" }, batchId: "batch-1" },
    ]);
  });

  it("changes nothing when the same window is applied again, and hands the last version on", async () => {
    const store = new DynamoIntegratedStore(client, table);
    const window = [upsert("003", "Cường", "batch-2", 0), upsert("003", "Cường (2)", "batch-2", 1)];
    await store.applyWindow(window);

    const again = await store.applyWindow(window);

    expect(again.map((result) => [result.outcome, result.change?.version])).toEqual([
      ["replayed", undefined],
      ["replayed", 2],
    ]);
    expect(await store.get("MPS.POPULATION.REGISTER", "003")).toMatchObject({ version: 2 });
  });

  it("applies again one at a time a key that another writer changed after it was read", async () => {
    const other = new DynamoIntegratedStore(client, table);
    await other.apply(upsert("004", "Dũng", "batch-3", 0));
    let raced = false;
    const racing = {
      send: async (command: Parameters<DynamoDBClient["send"]>[0]) => {
        const item = command instanceof PutItemCommand ? command.input.Item : undefined;
        if (!raced && item?.sk?.S === "CURRENT" && item.key?.S === "004") {
          raced = true;
          await other.apply(upsert("004", "Dũng (other)", "batch-4", 0));
        }
        return client.send(command as never);
      },
    } as unknown as DynamoDBClient;
    const store = new DynamoIntegratedStore(racing, table);

    const results = await store.applyWindow([upsert("004", "Dũng (mine)", "batch-5", 0)]);

    expect(raced).toBe(true);
    expect(results.map((result) => [result.outcome, result.change?.version])).toEqual([["updated", 3]]);
    expect(await store.get("MPS.POPULATION.REGISTER", "004")).toMatchObject({
      version: 3,
      record: { personalId: "004", fullName: "Dũng (mine)" },
    });
    expect((await history("004")).map((entry) => [entry.version, entry.batchId])).toEqual([
      [1, "batch-3"],
      [2, "batch-4"],
    ]);
  });
});

describe("DynamoIntegratedStore: batches in their dataset's order", () => {
  it("never lets an earlier batch, applied again after a later one, overwrite what the later one wrote", async () => {
    const store = new DynamoIntegratedStore(client, table);
    const earlier = [upsert("010", "Giang", "batch-a", 0, 1), upsert("011", "Hà", "batch-a", 1, 1)];
    await store.applyWindow(earlier, true);
    await store.applyWindow(
      [upsert("010", "Giang (B)", "batch-b", 0, 2), upsert("011", "Hà (B)", "batch-b", 1, 2)],
      true,
    );

    const again = await store.applyWindow(earlier, true);
    const alone = await store.apply(upsert("010", "Giang", "batch-a", 0, 1));

    expect(again.map((result) => [result.outcome, result.change])).toEqual([
      ["superseded", undefined],
      ["superseded", undefined],
    ]);
    expect(alone).toEqual({ outcome: "superseded" });
    expect(await store.get("MPS.POPULATION.REGISTER", "010")).toMatchObject({
      version: 2,
      sourceBatch: "batch-b",
      record: { fullName: "Giang (B)" },
    });
  });

  it("lets a later batch that found a record unchanged still hold off an earlier one", async () => {
    const store = new DynamoIntegratedStore(client, table);
    await store.applyWindow([upsert("012", "Khoa", "batch-c", 0, 1)], true);
    const same = await store.applyWindow([upsert("012", "Khoa", "batch-e", 0, 3)], true);

    const late = await store.applyWindow([upsert("012", "Khoa (D)", "batch-d", 0, 2)], true);

    expect(same[0]?.outcome).toBe("unchanged");
    expect(late[0]?.outcome).toBe("superseded");
    expect(await store.get("MPS.POPULATION.REGISTER", "012")).toMatchObject({
      version: 1,
      record: { fullName: "Khoa" },
    });
  });

  it("keeps, when a full sync deletes what it did not carry, a record a later batch wrote", async () => {
    const store = new DynamoIntegratedStore(client, table);
    const datasetId = "MPS.FULL";
    const full = { ...upsert("020", "Lan", "batch-f", 0, 1), datasetId, fullSync: true };
    await store.applyWindow([{ ...upsert("021", "Minh", "batch-old", 0), datasetId }], true);
    await store.applyWindow([full], true);
    await store.applyWindow([{ ...upsert("022", "Nga", "batch-g", 0, 2), datasetId }], true);

    const tombstoned = await store.tombstoneUnseen(datasetId, { batchId: "batch-f", sequence: 1 }, at);

    expect(tombstoned).toBe(1);
    expect(await store.get(datasetId, "021")).toBeUndefined();
    expect(await store.get(datasetId, "020")).toBeDefined();
    expect(await store.get(datasetId, "022")).toMatchObject({ sourceBatch: "batch-g" });
  });
});

describe("DynamoIntegratedStore.lease", () => {
  it("lets one batch at a time apply a dataset, until it gives the lease up or lets it lapse", async () => {
    const store = new DynamoIntegratedStore(client, table);

    const first = await store.lease("MPS.LEASED", "batch-a", 60_000);
    const renewed = await store.lease("MPS.LEASED", "batch-a", 60_000);
    const refused = await store.lease("MPS.LEASED", "batch-b", 60_000);
    const otherDataset = await store.lease("MPS.OTHER", "batch-b", 60_000);
    await store.release("MPS.LEASED", "batch-b");
    const stillHeld = await store.lease("MPS.LEASED", "batch-b", 60_000);
    await store.release("MPS.LEASED", "batch-a");
    const afterRelease = await store.lease("MPS.LEASED", "batch-b", 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const afterLapse = await store.lease("MPS.LEASED", "batch-c", 60_000);

    expect([first, renewed, refused, otherDataset, stillHeld, afterRelease, afterLapse]).toEqual([
      true,
      true,
      false,
      true,
      false,
      true,
      true,
    ]);
  });
});
