import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { ExchangeEntry } from "../../domain/exchange/model.ts";
import { type ChainedEntry, GENESIS_HASH, link } from "../../domain/exchange-log/chain.ts";
import type { ExchangeLogStore, LogQuery, LogScope } from "../../domain/exchange-log/model.ts";
import { parseCursor, refuseCursor } from "./cursor.ts";
import { equalityFilter, readItems, withoutTableKeys } from "./items.ts";
import { conditional } from "./writes.ts";

const SEQ_DIGITS = 12;

/**
 * Transactions the head item remembers, to skip a redelivered message. The FIFO queue hands the
 * appender at most 10 messages of a shard at a time and none of the shard's later ones until
 * those are done, so a redelivered message is always among the shard's last 10 entries.
 */
const RECENT = 20;

/**
 * Index partitions each scope's entries are spread over (by shard), so that no agency's or
 * hour's traffic lands on one partition of the indexes; a listing reads them all.
 */
const INDEX_SPREAD = 8;

/** Where a shard's chain ends, and the transactions of its last entries. */
interface ChainEnd {
  readonly seq: number;
  readonly hash: string;
  readonly recent: readonly string[];
}

/**
 * The exchange log in DynamoDB: each shard a hash chain of entries at `CHAIN#<shard>` /
 * `SEQ#<seq>`, with a head item recording the last one; indexes by consumer agency, provider
 * agency and time for the scoped reads. Appends use conditional single-item writes only: the
 * local runtime's DynamoDB (dynalite) has no transactions.
 */
export class DynamoExchangeLogStore implements ExchangeLogStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * Appends entries to one shard's chain, in order, exactly once. The shard's head item (one
   * consistent read) gives the chain's end and the transactions of its last {@link RECENT}
   * entries, so a redelivered message is skipped. Each entry is put on the condition that its
   * slot is free, one after another: a slot already taken (by a concurrent writer, or by an
   * append whose head update was lost in a crash) makes the append start again from the chain's
   * true end, read from its newest entries, so the chain never forks and no entry is logged twice.
   * The head is then advanced once for the whole batch.
   */
  async append(shard: number, entries: readonly ExchangeEntry[]): Promise<ChainedEntry[]> {
    let end = await this.headState(shard);
    for (let attempt = 0; attempt < 10; attempt++) {
      const seen = new Set(end.recent);
      const fresh: ExchangeEntry[] = [];
      for (const entry of entries) {
        if (seen.has(entry.transactionId)) continue;
        seen.add(entry.transactionId);
        fresh.push(entry);
      }
      if (fresh.length === 0) return [];
      const chained = link(fresh, shard, end);
      let written = 0;
      try {
        for (const entry of chained) {
          await this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: marshall(item(entry), { removeUndefinedValues: true }),
              ConditionExpression: "attribute_not_exists(pk)",
            }),
          );
          written++;
        }
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) {
          if (written > 0) await this.advanceHead(shard, chained.slice(0, written), end.recent);
          throw error;
        }
        // The slot is taken: the chain is past the head. Start again from its newest entries.
        if (written > 0) await this.advanceHead(shard, chained.slice(0, written), end.recent);
        end = await this.chainEnd(shard);
        continue;
      }
      await this.advanceHead(shard, chained, end.recent);
      return chained;
    }
    throw new Error(`could not append to log shard ${shard}: too much contention`);
  }

  async head(shard: number): Promise<{ seq: number; hash: string } | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `CHAIN#${shard}`, sk: "HEAD" }),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const head = unmarshall(Item);
    return { seq: Number(head.seq), hash: String(head.hash) };
  }

  /** One page of a shard's entries in sequence order, from `afterSeq`. */
  async readShard(shard: number, afterSeq: number, limit = 500): Promise<{ entries: ChainedEntry[]; more: boolean }> {
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
        ExpressionAttributeValues: marshall({
          ":pk": `CHAIN#${shard}`,
          ":from": seqKey(afterSeq + 1),
          ":to": seqKey(10 ** SEQ_DIGITS - 1),
        }),
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return { entries: Items.map((entry) => record(unmarshall(entry))), more: LastEvaluatedKey !== undefined };
  }

  /**
   * Entries a scope may see, newest first, within a time range. The index partition of a scope
   * (an agency, or all entries) is spread over {@link INDEX_SPREAD} partitions (`#<n>`, from the
   * entry's shard) so one agency's or one hour's traffic is not written to one partition; a page
   * reads each of them (and the unspread one of entries written before) and merges them in order.
   * The cursor is the sort key (`<time>#<transactionId>`) the page ended before.
   */
  async query(scope: LogScope, query: LogQuery): Promise<{ items: ChainedEntry[]; nextCursor?: string }> {
    const [index, attribute, partition] =
      scope.kind === "consumer"
        ? ["byConsumer", "gsi1", `CONSUMER#${scope.agency}`]
        : scope.kind === "provider"
          ? ["byProvider", "gsi2", `PROVIDER#${scope.agency}`]
          : ["byTime", "gsi3", "ALL"];
    const before = query.cursor ? decodeLogCursor(query.cursor) : undefined;
    const values: Record<string, unknown> = {
      ":from": query.from ?? "0000",
      ":to": before ?? `${query.to ?? "9999"}~`,
    };
    const filterExpression = equalityFilter({ datasetId: query.datasetId, outcome: query.outcome }, values);
    const partitions = [partition, ...Array.from({ length: INDEX_SPREAD }, (_, n) => `${partition}#${n}`)];
    const pages = await Promise.all(
      partitions.map(async (value) => {
        const { Items = [], LastEvaluatedKey } = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index,
            KeyConditionExpression: `${attribute}pk = :partition AND ${attribute}sk BETWEEN :from AND :to`,
            ...filterExpression,
            ExpressionAttributeValues: marshall({ ...values, ":partition": value }),
            ScanIndexForward: false,
            // One more than a page: the entry at the cursor itself is read again and dropped.
            Limit: query.limit + 1,
          }),
        );
        const items = Items.map((item) => unmarshall(item));
        const sortKey = (item: Record<string, unknown>) => String(item[`${attribute}sk`]);
        return {
          items: items
            .filter((item) => before === undefined || sortKey(item) < before)
            .map((item) => ({ key: sortKey(item), item })),
          // Below this sort key the partition was not read: the page may not go past it.
          end: LastEvaluatedKey ? String(unmarshall(LastEvaluatedKey)[`${attribute}sk`]) : undefined,
        };
      }),
    );
    const ends = pages.flatMap((page) => (page.end === undefined ? [] : [page.end]));
    const cut = ends.sort().at(-1);
    const merged = pages
      .flatMap((page) => page.items)
      .filter((entry) => cut === undefined || entry.key >= cut)
      .sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
    const items = merged.slice(0, query.limit);
    const next = merged.length > query.limit ? items.at(-1)?.key : cut;
    return {
      items: items.map((entry) => record(entry.item)),
      ...(next !== undefined
        ? { nextCursor: Buffer.from(JSON.stringify({ before: next })).toString("base64url") }
        : {}),
    };
  }

  /**
   * Every entry of a time window, in no order, with only what aggregate figures read (dataset,
   * outcome, latency): each index partition of the whole log queried to its end, a page (1 MB)
   * at a time, so nothing is read twice and nothing is held but the page.
   */
  async *windowEntries(window: {
    from: string;
    to: string;
  }): AsyncGenerator<Pick<ExchangeEntry, "datasetId" | "outcome" | "latencyMs">> {
    const partitions = ["ALL", ...Array.from({ length: INDEX_SPREAD }, (_, n) => `ALL#${n}`)];
    for (const partition of partitions) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const { Items = [], LastEvaluatedKey } = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: "byTime",
            KeyConditionExpression: "gsi3pk = :partition AND gsi3sk BETWEEN :from AND :to",
            ExpressionAttributeValues: marshall({
              ":partition": partition,
              ":from": window.from,
              ":to": `${window.to}~`,
            }),
            ProjectionExpression: "datasetId, outcome, latencyMs",
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of Items) {
          const entry = unmarshall(item);
          yield {
            datasetId: String(entry.datasetId),
            outcome: entry.outcome as ExchangeEntry["outcome"],
            latencyMs: Number(entry.latencyMs),
          };
        }
        start = LastEvaluatedKey;
      } while (start);
    }
  }

  /** The shard's end as its head item records it (one consistent read). */
  private async headState(shard: number): Promise<ChainEnd> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `CHAIN#${shard}`, sk: "HEAD" }),
        ConsistentRead: true,
      }),
    );
    if (!Item) return { seq: 0, hash: GENESIS_HASH, recent: [] };
    const head = unmarshall(Item);
    return {
      seq: Number(head.seq),
      hash: String(head.hash),
      recent: Array.isArray(head.recent) ? head.recent.map(String) : [],
    };
  }

  /** The shard's true end, from its newest entries: used when the head item lags the chain. */
  private async chainEnd(shard: number): Promise<ChainEnd> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :seq)",
        ExpressionAttributeValues: marshall({ ":pk": `CHAIN#${shard}`, ":seq": "SEQ#" }),
        ProjectionExpression: "transactionId, seq, #hash",
        ExpressionAttributeNames: { "#hash": "hash" },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: RECENT,
      }),
    );
    const newest = Items.map((entry) => unmarshall(entry));
    const last = newest[0];
    return {
      seq: last ? Number(last.seq) : 0,
      hash: last ? String(last.hash) : GENESIS_HASH,
      recent: newest.map((entry) => String(entry.transactionId)).reverse(),
    };
  }

  /**
   * Records when a dataset was first shared through the platform (its connection, Art. 24.3)
   * at `CONNECTED#<datasetId>`; an earlier time replaces a later one, never the reverse.
   */
  async markConnected(datasetId: string, at: string): Promise<void> {
    await conditional(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `CONNECTED#${datasetId}`, sk: "CONNECTED" }),
          UpdateExpression: "SET firstAt = :at, datasetId = :dataset",
          ConditionExpression: "attribute_not_exists(firstAt) OR firstAt > :at",
          ExpressionAttributeValues: marshall({ ":at": at, ":dataset": datasetId }),
        }),
      ),
    );
  }

  /** When each of the datasets was first shared through the platform, for those that were. */
  async connections(datasetIds: readonly string[]): Promise<Map<string, string>> {
    const items = await readItems<{ datasetId: string; firstAt: string }>(
      this.client,
      this.tableName,
      datasetIds.map((datasetId) => ({ pk: `CONNECTED#${datasetId}`, sk: "CONNECTED" })),
      { consistent: false, refused: "connection dates could not be read: DynamoDB kept them back" },
    );
    return new Map(items.map((item) => [item.datasetId, item.firstAt]));
  }

  /** Moves the head to the last of `appended`, remembering the last {@link RECENT} transactions. */
  private async advanceHead(
    shard: number,
    appended: readonly ChainedEntry[],
    recent: readonly string[],
  ): Promise<void> {
    const last = appended[appended.length - 1] as ChainedEntry;
    await conditional(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `CHAIN#${shard}`, sk: "HEAD" }),
          UpdateExpression: "SET seq = :seq, #hash = :hash, recent = :recent",
          ConditionExpression: "attribute_not_exists(seq) OR seq < :seq",
          ExpressionAttributeNames: { "#hash": "hash" },
          ExpressionAttributeValues: marshall({
            ":seq": last.seq,
            ":hash": last.hash,
            ":recent": [...recent, ...appended.map((entry) => entry.transactionId)].slice(-RECENT),
          }),
        }),
      ),
    );
  }
}

/** The sort key a log cursor names; anything else is a cursor this API never returned (a 400 naming `cursor`). */
function decodeLogCursor(cursor: string): string {
  const parsed = parseCursor(cursor);
  const before = (parsed as { before?: unknown } | null)?.before;
  if (
    typeof before !== "string" ||
    Object.keys(parsed as object).length !== 1 ||
    before.length === 0 ||
    Buffer.byteLength(before) > 1024
  ) {
    return refuseCursor("does not fit this listing");
  }
  return before;
}

function seqKey(seq: number): string {
  return `SEQ#${String(seq).padStart(SEQ_DIGITS, "0")}`;
}

function item(entry: ChainedEntry): Record<string, unknown> {
  const order = `${entry.time}#${entry.transactionId}`;
  const spread = `#${entry.shard % INDEX_SPREAD}`;
  return {
    ...entry,
    pk: `CHAIN#${entry.shard}`,
    sk: seqKey(entry.seq),
    gsi1pk: `CONSUMER#${entry.consumerAgency}${spread}`,
    gsi1sk: order,
    ...(entry.providerAgency ? { gsi2pk: `PROVIDER#${entry.providerAgency}${spread}`, gsi2sk: order } : {}),
    gsi3pk: `ALL${spread}`,
    gsi3sk: order,
  };
}

function record(entry: Record<string, unknown>): ChainedEntry {
  return withoutTableKeys<ChainedEntry>(entry);
}
