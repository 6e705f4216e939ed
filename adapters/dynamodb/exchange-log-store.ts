import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type WriteRequest,
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

/**
 * A batch the head item has claimed (positions `from` to the head's `seq`, linked after `prev`)
 * whose entries may not all be written yet: its transactions are the last `count` of `recent`.
 */
interface Claim {
  readonly from: number;
  readonly prev: string;
  readonly count: number;
  /** When it was claimed (epoch ms). */
  readonly at: number;
}

/**
 * How long a claim's entries may be missing: the queue redelivers an unfinished batch within its
 * visibility timeout (3 min), five times at most (15 min) before its dead-letter queue. Past
 * this, an entry missing below the head is reported as removed.
 */
export const CLAIM_GRACE_MS = 15 * 60_000;

/** Where a shard's chain ends, the transactions of its last entries, and its last claim. */
interface ChainEnd {
  readonly seq: number;
  readonly hash: string;
  readonly recent: readonly string[];
  readonly pending?: Claim;
}

/** Attempts of a batch write to have DynamoDB take every item before the append fails (and is redelivered). */
const WRITE_ATTEMPTS = 8;

/**
 * The exchange log in DynamoDB: each shard a hash chain of entries at `CHAIN#<shard>` /
 * `SEQ#<seq>`, with a head item recording its end; indexes by consumer agency, provider agency
 * and time for the scoped reads. The local runtime's DynamoDB (dynalite) has no transactions, so
 * an append claims positions with one conditional write to the head, then writes the entries.
 */
export class DynamoExchangeLogStore implements ExchangeLogStore {
  /**
   * Each shard's head as this store last wrote it: the next append of the shard here claims from
   * it without reading it (one call fewer), and reads it when another writer moved it meanwhile.
   */
  private readonly heads = new Map<number, ChainEnd>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * Appends entries to one shard's chain, in order, exactly once, in three calls for a batch (two
   * when this store wrote the shard's head last and still holds it): the
   * head item (one consistent read) gives the chain's end and its last {@link RECENT}
   * transactions, so a redelivered message is skipped; one conditional update of the head claims
   * the next positions for the new entries (a concurrent writer's claim makes it start again
   * from the new end, so the chain never forks); one batch write puts the entries. The head
   * remembers the claim: if the writer stops before its entries are all written, the queue
   * redelivers their messages, and the entries are written again from them, identical, in the
   * positions claimed (`recover`).
   */
  async append(shard: number, entries: readonly ExchangeEntry[]): Promise<ChainedEntry[]> {
    // A claim's transactions must fit in the head's `recent`: a longer batch goes in parts.
    if (entries.length > RECENT) {
      const appended: ChainedEntry[] = [];
      for (let start = 0; start < entries.length; start += RECENT) {
        appended.push(...(await this.append(shard, entries.slice(start, start + RECENT))));
      }
      return appended;
    }
    for (let attempt = 0; attempt < 10; attempt++) {
      // The head as this store left it, if it did: the claim's condition checks it is still so.
      const read = this.heads.get(shard) ?? (await this.headState(shard));
      this.heads.delete(shard);
      const end = read.pending ? await this.recover(shard, read, entries) : read;
      if (!end) continue;
      const seen = new Set(end.recent);
      const fresh: ExchangeEntry[] = [];
      for (const entry of entries) {
        if (seen.has(entry.transactionId)) continue;
        seen.add(entry.transactionId);
        fresh.push(entry);
      }
      if (fresh.length === 0) {
        this.heads.set(shard, end);
        return [];
      }
      const chained = link(fresh, shard, end);
      const claimed = await this.claim(shard, end, chained);
      if (!claimed) continue;
      await this.writeEntries(chained);
      this.heads.set(shard, claimed);
      return chained;
    }
    throw new Error(`could not append to log shard ${shard}: too much contention`);
  }

  /**
   * Writes again the entries of the head's claim that this batch redelivers: they are the
   * claim's first transactions, in order (the queue hands a shard's messages over in order and
   * none of a claim's until the earlier ones are done), linked as they were the first time. When
   * only the claim's first entries came, the claim is narrowed to the rest, so the next batch can
   * link those. The head as it then is, or undefined when it moved meanwhile (start again).
   */
  private async recover(
    shard: number,
    end: ChainEnd,
    entries: readonly ExchangeEntry[],
  ): Promise<ChainEnd | undefined> {
    const claim = end.pending as Claim;
    const claimed = end.recent.slice(-claim.count);
    const byId = new Map(entries.map((entry) => [entry.transactionId, entry]));
    const redelivered: ExchangeEntry[] = [];
    for (const id of claimed) {
      const entry = byId.get(id);
      if (!entry) break;
      redelivered.push(entry);
    }
    // A claimed message that comes back without those claimed before it (a duplicate whose
    // earlier neighbours were deleted) cannot be linked again: it must already be written.
    for (const [index, id] of claimed.entries()) {
      if (index < redelivered.length || !byId.has(id)) continue;
      if ((await this.entryAt(shard, claim.from + index)) !== id) {
        throw new Error(
          `log shard ${shard}: entry ${claim.from + index} (${id}) came back without the entries claimed before it, and is not written`,
        );
      }
    }
    if (redelivered.length === 0) return end;
    const rewritten = link(redelivered, shard, { seq: claim.from - 1, hash: claim.prev });
    await this.writeEntries(rewritten);
    if (redelivered.length === claim.count) return end;
    const last = rewritten[rewritten.length - 1] as ChainedEntry;
    const narrowed: Claim = { ...claim, from: last.seq + 1, prev: last.hash, count: claim.count - redelivered.length };
    const moved = await conditional(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `CHAIN#${shard}`, sk: "HEAD" }),
          UpdateExpression: "SET pending = :pending",
          ConditionExpression: "seq = :seq AND pending.#from = :from",
          ExpressionAttributeNames: { "#from": "from" },
          ExpressionAttributeValues: marshall({
            ":seq": end.seq,
            ":from": claim.from,
            ":pending": narrowed,
          }),
        }),
      ),
    );
    return moved ? { ...end, pending: narrowed } : undefined;
  }

  /** The transaction written at a position of the shard, if any. */
  private async entryAt(shard: number, seq: number): Promise<string | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `CHAIN#${shard}`, sk: seqKey(seq) }),
        ProjectionExpression: "transactionId",
        ConsistentRead: true,
      }),
    );
    return Item ? String(unmarshall(Item).transactionId) : undefined;
  }

  /**
   * Moves the head over `chained` if it is still where it was read: the head it wrote, or
   * undefined if another writer moved it first.
   */
  private async claim(shard: number, end: ChainEnd, chained: readonly ChainedEntry[]): Promise<ChainEnd | undefined> {
    const last = chained[chained.length - 1] as ChainedEntry;
    const head: ChainEnd = {
      seq: last.seq,
      hash: last.hash,
      recent: [...end.recent, ...chained.map((entry) => entry.transactionId)].slice(-RECENT),
      pending: { from: end.seq + 1, prev: end.hash, count: chained.length, at: Date.now() },
    };
    const moved = await conditional(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `CHAIN#${shard}`, sk: "HEAD" }),
          UpdateExpression: "SET seq = :seq, #hash = :hash, recent = :recent, pending = :pending",
          ConditionExpression: end.seq === 0 ? "attribute_not_exists(seq) OR seq = :at" : "seq = :at",
          ExpressionAttributeNames: { "#hash": "hash" },
          ExpressionAttributeValues: marshall({
            ":at": end.seq,
            ":seq": head.seq,
            ":hash": head.hash,
            ":recent": head.recent,
            ":pending": head.pending,
          }),
        }),
      ),
    );
    return moved ? head : undefined;
  }

  /** Puts entries, 25 to a batch write, retrying what DynamoDB leaves unprocessed. */
  private async writeEntries(chained: readonly ChainedEntry[]): Promise<void> {
    for (let start = 0; start < chained.length; start += 25) {
      let requests: WriteRequest[] = chained.slice(start, start + 25).map((entry) => ({
        PutRequest: { Item: marshall(item(entry), { removeUndefinedValues: true }) },
      }));
      for (let attempt = 1; requests.length > 0; attempt++) {
        if (attempt > WRITE_ATTEMPTS)
          throw new Error("DynamoDB kept log entries unprocessed; the batch will be retried");
        if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
        const { UnprocessedItems } = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }

  /**
   * Where the shard's chain is known to be whole: the head, or while its last claim may still be
   * being written ({@link CLAIM_GRACE_MS}), the entry before that claim. Entries past it may be
   * missing for that while.
   */
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
    if (head.pending && Date.now() - Number(head.pending.at ?? 0) < CLAIM_GRACE_MS) {
      return { seq: Number(head.pending.from) - 1, hash: String(head.pending.prev) };
    }
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
      ...(head.pending
        ? {
            pending: {
              from: Number(head.pending.from),
              prev: String(head.pending.prev),
              count: Number(head.pending.count),
              at: Number(head.pending.at ?? 0),
            },
          }
        : {}),
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
