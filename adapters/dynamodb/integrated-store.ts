import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { RecordChange } from "../../domain/delivery/model.ts";
import { canonicalJson } from "../../domain/exchange-log/chain.ts";
import type { Applied, ApplyInput, IntegratedStore, StoredRecord } from "../../domain/sync/model.ts";
import { queryPage, queryPages } from "./cursor.ts";
import { readItems } from "./items.ts";

const VERSION_DIGITS = 10;
/** Records written at once while a window is applied. */
const WRITE_CONCURRENCY = 8;

interface Current extends StoredRecord {
  /** `<batchId>#<index>` of the last operation applied: a replay of it is a no-op. */
  readonly lastOp: string;
  /** The sequence of that operation's batch: an operation of an earlier batch is a no-op. */
  readonly sequence?: number;
  /** The last full sync that carried the record. */
  readonly seenIn?: string;
}

/**
 * The National Integrated Database (Art. 7.2c): each record at `<datasetId>#<key>` / `CURRENT`
 * with its version and source batch, every earlier version kept at `V#<version>`; live records
 * of a dataset listed through `byDataset` (`gsi1pk` = dataset, `gsi1sk` = key). Writes are
 * conditional on the version read, so concurrent batches never lose an update; each record
 * keeps the position (batch sequence, index) of the operation that last wrote or saw it, so an
 * operation at or before it (a replay, or an earlier batch sent again) changes nothing.
 */
export class DynamoIntegratedStore implements IntegratedStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async apply(input: ApplyInput): Promise<Applied> {
    const lastOp = `${input.batchId}#${input.index}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.current(input.datasetId, input.key);
      const past = passed(current, input);
      if (past) return past;
      const live = current !== undefined && !current.deleted;
      try {
        if (input.operation.op === "delete") {
          if (!live) return { outcome: "absent" };
          const version = await this.write(current, { record: {}, deleted: true }, input, lastOp);
          return {
            outcome: "deleted",
            change: { key: input.key, version, op: "delete", record: {}, changedAt: input.at },
          };
        }
        const record = input.operation.record;
        if (live && canonicalJson(current.record) === canonicalJson(record)) {
          // The same record again: no new version, but the batch has seen it.
          await this.touch(current, lastOp, input.sequence, input.fullSync ? input.batchId : undefined);
          return { outcome: "unchanged" };
        }
        const version = await this.write(current, { record, deleted: false }, input, lastOp);
        return {
          outcome: live ? "updated" : "created",
          change: { key: input.key, version, op: "upsert", record, changedAt: input.at },
        };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // Another writer changed the record since it was read: read it again.
      }
    }
    throw new Error(`${input.datasetId} ${input.key} kept changing; the chunk will be retried`);
  }

  /**
   * Applies a window of operations at far fewer requests than one at a time: the records are
   * read in one consistent BatchGetItem per 100 keys; each key's operations are folded, in order,
   * into the record's last state; the history of every version they supersede is written first
   * (BatchWriteItem: it is true whatever happens next), then the record once, conditional on the
   * version read. A key another writer changed meanwhile is applied again one operation at a time.
   */
  async applyWindow(inputs: readonly ApplyInput[], exclusive = false): Promise<Applied[]> {
    if (inputs.length === 0) return [];
    const datasetId = (inputs[0] as ApplyInput).datasetId;
    const byKey = new Map<string, number[]>();
    inputs.forEach((input, index) => {
      byKey.set(input.key, [...(byKey.get(input.key) ?? []), index]);
    });
    const currents = await this.currents(datasetId, [...byKey.keys()]);
    const results: Applied[] = new Array(inputs.length);
    const plans = [...byKey.entries()].map(([key, indices]) => {
      const plan = fold(
        currents.get(key),
        indices.map((index) => inputs[index] as ApplyInput),
      );
      plan.results.forEach((result, position) => {
        results[indices[position] as number] = result;
      });
      return { key, indices, plan };
    });
    await this.putAll(plans.flatMap(({ plan }) => plan.history));
    if (exclusive) {
      // No other batch writes these records while the lease is held: 25 records a request.
      await this.putAll(plans.flatMap(({ plan }) => (plan.write ? [plan.write.item] : [])));
      return results;
    }
    const pending = plans.filter(({ plan }) => plan.write !== undefined);
    const worker = async () => {
      for (let next = pending.shift(); next; next = pending.shift()) {
        const { plan, indices } = next;
        try {
          if (plan.write?.touch && plan.read)
            await this.touch(plan.read, plan.write.item.lastOp, plan.write.item.sequence, plan.write.item.seenIn);
          else if (plan.write) {
            await this.client.send(
              new PutItemCommand({
                TableName: this.tableName,
                Item: marshall(plan.write.item, { removeUndefinedValues: true }),
                ...conditionOn(plan.read),
              }),
            );
          }
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          // Changed since it was read: one operation at a time, each reading it again.
          for (const index of indices) results[index] = await this.apply(inputs[index] as ApplyInput);
        }
      }
    };
    await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
    return results;
  }

  async get(datasetId: string, key: string): Promise<StoredRecord | undefined> {
    const current = await this.current(datasetId, key);
    return current && !current.deleted ? stored(current) : undefined;
  }

  query(datasetId: string, filters: Readonly<Record<string, unknown>>, page: { limit: number; cursor?: string }) {
    // `#record` only when a filter uses it: DynamoDB refuses names an expression does not use.
    const names: Record<string, string> = {
      "#deleted": "deleted",
      ...(Object.keys(filters).length > 0 ? { "#record": "record" } : {}),
    };
    const values: Record<string, unknown> = { ":dataset": datasetId, ":deleted": true };
    const conditions = ["#deleted <> :deleted"];
    Object.entries(filters).forEach(([field, value], index) => {
      names[`#f${index}`] = field;
      values[`:v${index}`] = value;
      conditions.push(`#record.#f${index} = :v${index}`);
    });
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: "byDataset",
        KeyConditionExpression: "gsi1pk = :dataset",
        FilterExpression: conditions.join(" AND "),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
      },
      page,
      (item) => stored(item as unknown as Current),
    );
  }

  async tombstoneUnseen(
    datasetId: string,
    { batchId, sequence }: { readonly batchId: string; readonly sequence?: number },
    at: string,
    onPage?: (page: number, deleted: readonly RecordChange[]) => Promise<void>,
  ): Promise<number> {
    let count = 0;
    let page = 0;
    for await (const items of queryPages(this.client, {
      TableName: this.tableName,
      IndexName: "byDataset",
      KeyConditionExpression: "gsi1pk = :dataset",
      FilterExpression: "#deleted <> :deleted AND (attribute_not_exists(#seenIn) OR #seenIn <> :batch)",
      ExpressionAttributeNames: { "#deleted": "deleted", "#seenIn": "seenIn" },
      ExpressionAttributeValues: marshall({ ":dataset": datasetId, ":deleted": true, ":batch": batchId }),
    })) {
      const deleted: RecordChange[] = [];
      for (const item of items) {
        const { key } = item as unknown as Current;
        const { outcome, change } = await this.apply({
          datasetId,
          key,
          operation: { op: "delete", key },
          batchId: `${batchId}:absent`,
          // After every operation of the batch; a record a later batch wrote meanwhile stays.
          index: Number.MAX_SAFE_INTEGER,
          ...(sequence ? { sequence } : {}),
          fullSync: false,
          at,
        });
        if (outcome === "deleted") count++;
        if (change) deleted.push(change);
      }
      if (onPage && deleted.length > 0) await onPage(page++, deleted);
    }
    return count;
  }

  /** Current items of many keys, consistently read, 100 keys a request, the requests side by side. */
  private async currents(datasetId: string, keys: readonly string[]): Promise<Map<string, Current>> {
    const items = await readItems<Current>(
      this.client,
      this.tableName,
      keys.map((key) => ({ pk: `${datasetId}#${key}`, sk: "CURRENT" })),
      { consistent: true, refused: "the integrated store kept refusing reads; the chunk will be retried" },
    );
    return new Map(items.map((item) => [item.key, item]));
  }

  async lease(datasetId: string, batchId: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `LEASE#${datasetId}`, sk: "LEASE" }),
          UpdateExpression: "SET holder = :batch, expiresAt = :expires",
          ConditionExpression: "attribute_not_exists(holder) OR holder = :batch OR expiresAt < :now",
          ExpressionAttributeValues: marshall({ ":batch": batchId, ":expires": now + ttlMs, ":now": now }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async release(datasetId: string, batchId: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `LEASE#${datasetId}`, sk: "LEASE" }),
          UpdateExpression: "REMOVE holder, expiresAt",
          ConditionExpression: "holder = :batch",
          ExpressionAttributeValues: marshall({ ":batch": batchId }),
        }),
      );
    } catch (error) {
      // Not (or no longer) this batch's: nothing to give up.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Items, 25 a request, four requests at once, retrying what DynamoDB leaves unprocessed. */
  private async putAll(items: readonly object[]): Promise<void> {
    const groups: WriteRequest[][] = [];
    for (let start = 0; start < items.length; start += 25) {
      groups.push(
        items.slice(start, start + 25).map((item) => ({
          PutRequest: { Item: marshall(item as Record<string, unknown>, { removeUndefinedValues: true }) },
        })),
      );
    }
    const worker = async () => {
      for (let group = groups.shift(); group; group = groups.shift()) {
        let pending: WriteRequest[] = group;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt >= 8) throw new Error("the integrated store kept refusing writes; the chunk will be retried");
          const { UnprocessedItems } = await this.client.send(
            new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }),
          );
          pending = UnprocessedItems?.[this.tableName] ?? [];
          if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
  }

  private async current(datasetId: string, key: string): Promise<Current | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `${datasetId}#${key}`, sk: "CURRENT" }),
        ConsistentRead: true,
      }),
    );
    return Item ? (unmarshall(Item) as Current) : undefined;
  }

  /**
   * The next version, conditional on the one read. The version it supersedes goes to the history
   * first: true whatever happens next, so a crash between the two loses nothing.
   */
  private async write(
    current: Current | undefined,
    next: { record: Record<string, unknown>; deleted: boolean },
    input: ApplyInput,
    lastOp: string,
  ): Promise<number> {
    if (current) {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(historyOf(current), { removeUndefinedValues: true }),
        }),
      );
    }
    const version = (current?.version ?? 0) + 1;
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(currentItem(input, next, version, lastOp, current), { removeUndefinedValues: true }),
        ...conditionOn(current),
      }),
    );
    return version;
  }

  /** Records that an operation saw the record unchanged: its position, and the full sync that carried it. */
  private async touch(
    current: Current,
    lastOp: string,
    sequence: number | undefined,
    seenIn: string | undefined,
  ): Promise<void> {
    const sets = [
      "#lastOp = :op",
      ...(sequence ? ["#sequence = :sequence"] : []),
      ...(seenIn ? ["#seenIn = :seen"] : []),
    ];
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `${current.datasetId}#${current.key}`, sk: "CURRENT" }),
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: "#version = :read",
        ExpressionAttributeNames: {
          "#lastOp": "lastOp",
          "#version": "version",
          ...(sequence ? { "#sequence": "sequence" } : {}),
          ...(seenIn ? { "#seenIn": "seenIn" } : {}),
        },
        ExpressionAttributeValues: marshall({
          ":op": lastOp,
          ":read": current.version,
          ...(sequence ? { ":sequence": sequence } : {}),
          ...(seenIn ? { ":seen": seenIn } : {}),
        }),
      }),
    );
  }
}

/** The CURRENT item of a record at `version`, made by `input`. */
function currentItem(
  input: ApplyInput,
  next: { record: Record<string, unknown>; deleted: boolean },
  version: number,
  lastOp: string,
  before: Current | undefined,
): Current & { pk: string; sk: string; gsi1pk: string; gsi1sk: string } {
  return {
    pk: `${input.datasetId}#${input.key}`,
    sk: "CURRENT",
    gsi1pk: input.datasetId,
    gsi1sk: input.key,
    datasetId: input.datasetId,
    key: input.key,
    record: next.record,
    version,
    deleted: next.deleted,
    sourceBatch: input.batchId,
    updatedAt: input.at,
    lastOp,
    ...(input.sequence ? { sequence: input.sequence } : {}),
    ...(input.fullSync ? { seenIn: input.batchId } : before?.seenIn ? { seenIn: before.seenIn } : {}),
  };
}

/** The history item of a version once it is superseded: `V#<version>` beside the record. */
function historyOf(state: Current): Record<string, unknown> {
  return {
    pk: `${state.datasetId}#${state.key}`,
    sk: `V#${String(state.version).padStart(VERSION_DIGITS, "0")}`,
    version: state.version,
    op: state.deleted ? "delete" : "upsert",
    record: state.record,
    batchId: state.sourceBatch,
    at: state.updatedAt,
  };
}

/** Writes conditional on the version read (or on there being no record yet). */
function conditionOn(current: Current | undefined) {
  return current
    ? {
        ConditionExpression: "#version = :read",
        ExpressionAttributeNames: { "#version": "version" },
        ExpressionAttributeValues: marshall({ ":read": current.version }),
      }
    : { ConditionExpression: "attribute_not_exists(pk)" };
}

/** What a window's operations on one key do, worked out from the record as read. */
interface Plan {
  readonly results: Applied[];
  /** Every version the operations supersede, for the history. */
  readonly history: Record<string, unknown>[];
  /** The record's last state (or, for a full sync that changed nothing, its mark), if anything is written. */
  readonly write?: { readonly item: Current; readonly touch: boolean };
  readonly read: Current | undefined;
}

/**
 * Folds one key's operations, in order, into the record's last state. Operations up to the one
 * the record says was applied last are replays (the window is applied again after a crash);
 * those of a batch earlier than the record's last are superseded.
 */
function fold(read: Current | undefined, inputs: readonly ApplyInput[]): Plan {
  const results: Applied[] = [];
  const history: Record<string, unknown>[] = [];
  const done = read ? inputs.findIndex((input) => `${input.batchId}#${input.index}` === read.lastOp) : -1;
  let state = read;
  let changed = false;
  let seen = false;
  let latest = -1;
  inputs.forEach((input, position) => {
    if (position < done) {
      results.push({ outcome: "replayed" });
      return;
    }
    const past = passed(read, input);
    if (past) {
      results.push(past);
      return;
    }
    latest = position;
    const lastOp = `${input.batchId}#${input.index}`;
    const live = state !== undefined && !state.deleted;
    if (input.fullSync) seen = true;
    if (input.operation.op === "delete") {
      if (!live || !state) {
        results.push({ outcome: "absent" });
        return;
      }
      history.push(historyOf(state));
      state = currentItem(input, { record: {}, deleted: true }, state.version + 1, lastOp, state);
      changed = true;
      results.push({ outcome: "deleted", change: changeOf(state) });
      return;
    }
    const record = input.operation.record;
    if (live && state && canonicalJson(state.record) === canonicalJson(record)) {
      results.push({ outcome: "unchanged" });
      return;
    }
    if (state) history.push(historyOf(state));
    state = currentItem(input, { record, deleted: false }, (state?.version ?? 0) + 1, lastOp, state);
    changed = true;
    results.push({ outcome: live ? "updated" : "created", change: changeOf(state) });
  });
  if (changed && state) return { results, history, write: { item: state, touch: false }, read };
  // Unchanged records of a full sync are marked seen by it, or it would delete them as absent;
  // and of a later batch, or an earlier batch applied after it would change them.
  const last = inputs[latest];
  const advanced = (last?.sequence ?? 0) > (read?.sequence ?? 0);
  if ((seen || advanced) && read && last) {
    return {
      results,
      history,
      write: {
        item: {
          ...read,
          ...(seen ? { seenIn: last.batchId } : {}),
          lastOp: `${last.batchId}#${last.index}`,
          ...(last.sequence ? { sequence: last.sequence } : {}),
        },
        touch: true,
      },
      read,
    };
  }
  return { results, history, read };
}

/**
 * What an operation comes to if the record is already past it: `replayed` if it is the record's
 * last operation (with the version it made, if its batch made the record as it stands, so a
 * delivery lost with a crashed worker is made again; consumers apply it once by its key) or an
 * earlier one of the same batch; `superseded` if a later batch wrote or saw the record.
 * Undefined: the operation is to be applied.
 */
function passed(read: Current | undefined, input: ApplyInput): Applied | undefined {
  if (!read) return undefined;
  if (read.lastOp === `${input.batchId}#${input.index}`) {
    return read.sourceBatch === input.batchId
      ? { outcome: "replayed", change: changeOf(read) }
      : { outcome: "replayed" };
  }
  const sequence = input.sequence ?? 0;
  const readSequence = read.sequence ?? 0;
  // Records and operations from before sequences were kept: only the last operation is known.
  if (sequence === 0 || readSequence === 0) return undefined;
  if (sequence < readSequence) return { outcome: "superseded" };
  if (sequence === readSequence && input.index < indexOf(read.lastOp)) return { outcome: "replayed" };
  return undefined;
}

/** The index of a `<batchId>#<index>` operation (batch ids hold no `#`). */
function indexOf(lastOp: string): number {
  return Number(lastOp.slice(lastOp.lastIndexOf("#") + 1));
}

function changeOf(item: Current): RecordChange {
  return {
    key: item.key,
    version: item.version,
    op: item.deleted ? "delete" : "upsert",
    record: item.deleted ? {} : item.record,
    changedAt: item.updatedAt,
  };
}

function stored(item: Current): StoredRecord {
  return {
    datasetId: item.datasetId,
    key: item.key,
    record: item.record,
    version: item.version,
    deleted: item.deleted,
    sourceBatch: item.sourceBatch,
    updatedAt: item.updatedAt,
  };
}
