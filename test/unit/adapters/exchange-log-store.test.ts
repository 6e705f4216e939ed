import { type DynamoDBClient, GetItemCommand, QueryCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAIM_GRACE_MS, DynamoExchangeLogStore } from "../../../adapters/dynamodb/exchange-log-store.ts";
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

/** What a writer that stopped after claiming `claimed` on the head, before writing them, leaves. */
async function claimOnly(
  shard: number,
  before: { seq: number; hash: string; recent: string[] },
  claimed: readonly { seq: number; hash: string; transactionId: string }[],
  at = Date.now(),
) {
  const last = claimed[claimed.length - 1] as { seq: number; hash: string };
  await client.send(
    new UpdateItemCommand({
      TableName: table,
      Key: marshall({ pk: `CHAIN#${shard}`, sk: "HEAD" }),
      UpdateExpression: "SET seq = :seq, #hash = :hash, recent = :recent, pending = :pending",
      ExpressionAttributeNames: { "#hash": "hash" },
      ExpressionAttributeValues: marshall({
        ":seq": last.seq,
        ":hash": last.hash,
        ":recent": [...before.recent, ...claimed.map((item) => item.transactionId)],
        ":pending": { from: before.seq + 1, prev: before.hash, count: claimed.length, at },
      }),
    }),
  );
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

  it("writes a claimed batch again from its redelivered messages when the writer stopped before writing it", async () => {
    await store.append(3, [entry("c1")]);
    // A writer claimed c2 and c3 on the head, then stopped before putting them.
    const before = (await headItem(3)) as { seq: number; hash: string; recent: string[] };
    const claimed = link([entry("c2"), entry("c3")], 3, before);
    await claimOnly(3, before, claimed);
    expect((await verified(3)).verdict.valid).toBe(true);

    const redelivered = await store.append(3, [entry("c2"), entry("c3"), entry("c4")]);

    expect(redelivered.map((item) => [item.transactionId, item.seq])).toEqual([["c4", 4]]);
    const { entries, verdict } = await verified(3);
    expect(entries.map((item) => item.transactionId)).toEqual(["c1", "c2", "c3", "c4"]);
    expect(entries.slice(1, 3)).toEqual(claimed);
    expect(verdict.valid).toBe(true);
  });

  it("reports a claim's missing entries as removed once its messages can no longer come back", async () => {
    await store.append(9, [entry("i1")]);
    const before = (await headItem(9)) as { seq: number; hash: string; recent: string[] };
    await claimOnly(9, before, link([entry("i2")], 9, before), Date.now() - CLAIM_GRACE_MS - 1);

    expect((await verified(9)).verdict).toMatchObject({ valid: false, brokenAt: 2 });
  });

  it("narrows a claim when only its first messages come back, and links the rest after them", async () => {
    await store.append(7, [entry("g1")]);
    const before = (await headItem(7)) as { seq: number; hash: string; recent: string[] };
    const claimed = link([entry("g2"), entry("g3"), entry("g4")], 7, before);
    await claimOnly(7, before, claimed);

    expect(await store.append(7, [entry("g2")])).toEqual([]);
    expect(await headItem(7)).toMatchObject({ seq: 4, pending: { from: 3, prev: claimed[0]?.hash, count: 2 } });
    expect((await verified(7)).verdict.valid).toBe(true);
    expect(await store.append(7, [entry("g3"), entry("g4"), entry("g5")])).toHaveLength(1);

    const { entries, verdict } = await verified(7);
    expect(entries.map((item) => item.transactionId)).toEqual(["g1", "g2", "g3", "g4", "g5"]);
    expect(verdict.valid).toBe(true);
  });

  it("skips a claimed message that comes back alone once written, and refuses it if it never was", async () => {
    await store.append(8, [entry("h1"), entry("h2")]);
    expect(await store.append(8, [entry("h2"), entry("h3")])).toHaveLength(1);

    const before = (await headItem(8)) as { seq: number; hash: string; recent: string[] };
    await claimOnly(8, before, link([entry("h4"), entry("h5")], 8, before));
    await expect(store.append(8, [entry("h5")])).rejects.toThrow(
      /entry 5 \(h5\) came back without the entries claimed before it/,
    );
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

  it("appends a batch in three calls (the head read, its claim, one batch write), two when it wrote the head last", async () => {
    await store.append(5, [entry("d1")]);
    const sent: string[] = [];
    const counting = {
      send: (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        return client.send(command as never);
      },
    } as unknown as DynamoDBClient;

    const writer = new DynamoExchangeLogStore(counting, table);
    await writer.append(5, [entry("d2"), entry("d3")]);
    expect(sent).toEqual(["GetItemCommand", "UpdateItemCommand", "BatchWriteItemCommand"]);
    expect(sent).not.toContain(QueryCommand.name);

    // The head it wrote is the head: the next batch is claimed without reading it.
    sent.length = 0;
    await writer.append(5, [entry("d4")]);
    expect(sent).toEqual(["UpdateItemCommand", "BatchWriteItemCommand"]);

    // Another writer moved the head meanwhile: the claim fails, and the head is read.
    await store.append(5, [entry("d5")]);
    sent.length = 0;
    const [appended] = await writer.append(5, [entry("d6")]);
    expect(sent).toEqual(["UpdateItemCommand", "GetItemCommand", "UpdateItemCommand", "BatchWriteItemCommand"]);
    expect(appended?.seq).toBe(6);
    const { entries, verdict } = await verified(5);
    expect(entries.map((item) => item.transactionId)).toEqual(["d1", "d2", "d3", "d4", "d5", "d6"]);
    expect(verdict.valid).toBe(true);
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
