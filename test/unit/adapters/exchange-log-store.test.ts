import { type DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoExchangeLogStore } from "../../../adapters/dynamodb/exchange-log-store.ts";
import type { ExchangeEntry } from "../../../domain/exchange/model.ts";
import { GENESIS_HASH, link, ShardVerifier } from "../../../domain/exchange-log/chain.ts";
import type { LogQuery, LogScope } from "../../../domain/exchange-log/model.ts";
import { exchangeEntryFixture } from "../domain/fixtures.ts";
import { exchangeLogTable } from "../dynalite-table.ts";

/* The exchange log's appends against dynalite: the head item, redeliveries, batches and a racing writer. */

let client: DynamoDBClient;
let stop: () => Promise<void>;
const table = "exchange-log";
let store: DynamoExchangeLogStore;

const entry = (id: string, second = 0): ExchangeEntry =>
  exchangeEntryFixture({
    transactionId: id,
    time: `2026-11-27T08:00:${String(second % 60).padStart(2, "0")}.000Z`,
    providerSystem: "MPS.POPULATION",
    providerAgency: "MPS",
  });

beforeAll(async () => {
  ({ client, stop } = await exchangeLogTable(table));
  store = new DynamoExchangeLogStore(client, table);
});

afterAll(async () => {
  await stop?.();
});

/** Every entry of a shard, in order, checked as the verifier checks it against the head item. */
async function verified(shard: number) {
  const head = await store.head(shard);
  const { entries } = await store.readShard(shard, 0);
  const verifier = new ShardVerifier(shard, head);
  for (const item of entries) verifier.add(item);
  return { entries, verdict: verifier.finish() };
}

async function headItem(shard: number) {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: table, Key: marshall({ pk: `CHAIN#${shard}`, sk: "HEAD" }), ConsistentRead: true }),
  );
  return Item ? unmarshall(Item) : undefined;
}

describe("DynamoExchangeLogStore.append", () => {
  it("appends a batch in order after the head item, which records its end and last transactions", async () => {
    const appended = await store.append(1, [entry("a1", 1), entry("a2", 2), entry("a3", 3)]);

    expect(appended.map((item) => item.seq)).toEqual([1, 2, 3]);
    const head = await headItem(1);
    expect(head).toMatchObject({ seq: 3, hash: appended[2]?.hash, recent: ["a1", "a2", "a3"] });
    const { entries, verdict } = await verified(1);
    expect(entries.map((item) => item.transactionId)).toEqual(["a1", "a2", "a3"]);
    expect(verdict.valid).toBe(true);
  });

  it("skips a redelivered message, alone or within a batch of new ones", async () => {
    await store.append(2, [entry("b1"), entry("b2")]);

    expect(await store.append(2, [entry("b2")])).toEqual([]);
    const again = await store.append(2, [entry("b1"), entry("b2"), entry("b3"), entry("b3")]);

    expect(again.map((item) => [item.transactionId, item.seq])).toEqual([["b3", 3]]);
    const { entries, verdict } = await verified(2);
    expect(entries.map((item) => item.transactionId)).toEqual(["b1", "b2", "b3"]);
    expect(verdict.valid).toBe(true);
  });

  it("finds the chain's true end when the head item lags it (a crash before the head was advanced)", async () => {
    await store.append(3, [entry("c1")]);
    // An append that put its entries and crashed before advancing the head.
    const [lost] = link([entry("c2")], 3, (await store.head(3)) as { seq: number; hash: string });
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: marshall({ ...lost, pk: "CHAIN#3", sk: "SEQ#000000000002" }, { removeUndefinedValues: true }),
      }),
    );

    const redelivered = await store.append(3, [entry("c2"), entry("c3")]);

    expect(redelivered.map((item) => [item.transactionId, item.seq])).toEqual([["c3", 3]]);
    const { entries, verdict } = await verified(3);
    expect(entries.map((item) => item.transactionId)).toEqual(["c1", "c2", "c3"]);
    expect(verdict.valid).toBe(true);
  });

  it("never forks the chain when two writers append to one shard at once", async () => {
    const left = Array.from({ length: 8 }, (_, index) => entry(`l${index}`, index));
    const right = Array.from({ length: 8 }, (_, index) => entry(`r${index}`, index));

    await Promise.all([store.append(4, left), store.append(4, right)]);

    const { entries, verdict } = await verified(4);
    expect(entries).toHaveLength(16);
    expect(new Set(entries.map((item) => item.transactionId)).size).toBe(16);
    expect(verdict.valid).toBe(true);
    expect(entries.filter((item) => item.transactionId.startsWith("l")).map((item) => item.transactionId)).toEqual(
      left.map((item) => item.transactionId),
    );
  });

  it("reads the head item, not the shard's entries, on an ordinary append", async () => {
    await store.append(5, [entry("d1")]);
    const sent: string[] = [];
    const counting = {
      send: (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        return client.send(command as never);
      },
    } as unknown as DynamoDBClient;

    await new DynamoExchangeLogStore(counting, table).append(5, [entry("d2"), entry("d3")]);

    expect(sent).toEqual(["GetItemCommand", "PutItemCommand", "PutItemCommand", "UpdateItemCommand"]);
    expect(sent).not.toContain(QueryCommand.name);
  });

  it("starts a shard from the genesis", async () => {
    const [first] = await store.append(6, [entry("e1")]);
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
  });
});

describe("DynamoExchangeLogStore.query", () => {
  const time = (minute: number) => `2026-11-28T09:${String(minute).padStart(2, "0")}:00.000Z`;
  const made = Array.from({ length: 30 }, (_, index) => ({
    ...entry(`q${String(index).padStart(2, "0")}`),
    time: time(index),
    consumerAgency: index % 3 === 0 ? "DOJ" : "MOH",
    outcome: index % 5 === 0 ? ("denied" as const) : ("allowed" as const),
  }));

  beforeAll(async () => {
    // Spread over several shards, so over several index partitions.
    for (const [index, item] of made.entries()) await store.append(10 + (index % 6), [item]);
  });

  async function everyPage(scope: LogScope, query: Omit<LogQuery, "from" | "to" | "cursor">) {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.query(scope, {
        from: time(0),
        to: time(59),
        ...query,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.items.length).toBeLessThanOrEqual(query.limit);
      ids.push(...page.items.map((item) => item.transactionId));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    return ids;
  }

  const newestFirst = (items: typeof made) => items.map((item) => item.transactionId).reverse();

  it("merges the spread index partitions into one listing, newest first, page by page", async () => {
    expect(await everyPage({ kind: "all" }, { limit: 7 })).toEqual(newestFirst(made));
  });

  it("keeps an agency's scope and the filters across the pages", async () => {
    expect(await everyPage({ kind: "consumer", agency: "DOJ" }, { limit: 4 })).toEqual(
      newestFirst(made.filter((item) => item.consumerAgency === "DOJ")),
    );
    expect(await everyPage({ kind: "all" }, { limit: 3, outcome: "denied" })).toEqual(
      newestFirst(made.filter((item) => item.outcome === "denied")),
    );
  });

  it("writes an agency's entries to several index partitions", async () => {
    const partitions = new Set<string>();
    for (const shard of [10, 11, 12, 13, 14, 15]) {
      const page = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: marshall({ ":pk": `CHAIN#${shard}` }),
        }),
      );
      for (const item of page.Items ?? []) if (item.gsi1pk?.S) partitions.add(item.gsi1pk.S);
    }
    expect([...partitions].filter((partition) => partition.startsWith("CONSUMER#MOH#")).length).toBeGreaterThan(1);
  });

  it("refuses a cursor it never returned, naming cursor", async () => {
    await expect(store.query({ kind: "all" }, { limit: 5, cursor: "bm90LWEtY3Vyc29y" })).rejects.toThrow(/cursor/);
  });
});
