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
import { type Folded, fold, type RecordState } from "../../domain/sync/fold.ts";
import type { Applied, ApplyInput, IntegratedStore, StoredRecord } from "../../domain/sync/model.ts";
import { queryPage, queryPages } from "./cursor.ts";
import { readItems } from "./items.ts";
import { conditional } from "./writes.ts";

const VERSION_DIGITS = 10;
/** Records written at once while a window is applied. */
const WRITE_CONCURRENCY = 8;

/**
 * The National Integrated Database (Art. 7.2c): each record at `<datasetId>#<key>` / `CURRENT`
 * with its version and source batch, every earlier version kept at `V#<version>`; live records
 * of a dataset listed through `byDataset` (`gsi1pk` = dataset, `gsi1sk` = key). Writes are
 * conditional on the version read, so concurrent batches never lose an update. How operations
 * fold onto a record (versions, replays, batches in their dataset's order) is the domain's
 * {@link fold}; this store reads the records, and writes what it works out.
 */
export class DynamoIntegratedStore implements IntegratedStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async apply(input: ApplyInput): Promise<Applied> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const read = await this.current(input.datasetId, input.key);
      const folded = fold(read, [input]);
      try {
        // The versions it supersedes go to the history first: true whatever happens next, so a
        // crash between the two loses nothing.
        for (const state of folded.superseded) {
          await this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: marshall(historyOf(state), { removeUndefinedValues: true }),
            }),
          );
        }
        if (folded.write) await this.writeState(read, folded.write);
        return folded.results[0] as Applied;
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
      const read = currents.get(key);
      const plan: Folded = fold(
        read,
        indices.map((index) => inputs[index] as ApplyInput),
      );
      plan.results.forEach((result, position) => {
        results[indices[position] as number] = result;
      });
      return { key, indices, plan, read };
    });
    await this.putAll(plans.flatMap(({ plan }) => plan.superseded.map(historyOf)));
    if (exclusive) {
      // No other batch writes these records while the lease is held: 25 records a request.
      await this.putAll(plans.flatMap(({ plan }) => (plan.write ? [currentItem(plan.write.state)] : [])));
      return results;
    }
    const pending = plans.filter(({ plan }) => plan.write !== undefined);
    const worker = async () => {
      for (let next = pending.shift(); next; next = pending.shift()) {
        const { plan, indices, read } = next;
        try {
          if (plan.write) await this.writeState(read, plan.write);
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
      (item) => stored(item as unknown as RecordState),
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
        const { key } = item as unknown as RecordState;
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
  private async currents(datasetId: string, keys: readonly string[]): Promise<Map<string, RecordState>> {
    const items = await readItems<RecordState>(
      this.client,
      this.tableName,
      keys.map((key) => ({ pk: `${datasetId}#${key}`, sk: "CURRENT" })),
      { consistent: true, refused: "the integrated store kept refusing reads; the chunk will be retried" },
    );
    return new Map(items.map((item) => [item.key, item]));
  }

  async lease(datasetId: string, batchId: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    return conditional(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `LEASE#${datasetId}`, sk: "LEASE" }),
          UpdateExpression: "SET holder = :batch, expiresAt = :expires",
          ConditionExpression: "attribute_not_exists(holder) OR holder = :batch OR expiresAt < :now",
          ExpressionAttributeValues: marshall({ ":batch": batchId, ":expires": now + ttlMs, ":now": now }),
        }),
      ),
    );
  }

  async release(datasetId: string, batchId: string): Promise<void> {
    // Not (or no longer) this batch's: nothing to give up.
    await conditional(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `LEASE#${datasetId}`, sk: "LEASE" }),
          UpdateExpression: "REMOVE holder, expiresAt",
          ConditionExpression: "holder = :batch",
          ExpressionAttributeValues: marshall({ ":batch": batchId }),
        }),
      ),
    );
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

  private async current(datasetId: string, key: string): Promise<RecordState | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `${datasetId}#${key}`, sk: "CURRENT" }),
        ConsistentRead: true,
      }),
    );
    return Item ? (unmarshall(Item) as RecordState) : undefined;
  }

  /**
   * Writes a record's new state, conditional on the version read (or on there being none): the
   * whole item, or for a touch only its position and the full sync that saw it.
   */
  private async writeState(read: RecordState | undefined, write: NonNullable<Folded["write"]>): Promise<void> {
    const { state, touch } = write;
    if (touch && read) {
      await this.touch(read, state.lastOp, state.sequence, state.seenIn);
      return;
    }
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(currentItem(state), { removeUndefinedValues: true }),
        ...conditionOn(read),
      }),
    );
  }

  /** Records that an operation saw the record unchanged: its position, and the full sync that carried it. */
  private async touch(
    current: RecordState,
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

/** The CURRENT item of a record: its state, where it is kept and how its dataset lists it. */
function currentItem(state: RecordState): RecordState & { pk: string; sk: string; gsi1pk: string; gsi1sk: string } {
  return {
    ...state,
    pk: `${state.datasetId}#${state.key}`,
    sk: "CURRENT",
    gsi1pk: state.datasetId,
    gsi1sk: state.key,
  };
}

/** The history item of a version once it is superseded: `V#<version>` beside the record. */
function historyOf(state: RecordState): Record<string, unknown> {
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
function conditionOn(current: RecordState | undefined) {
  return current
    ? {
        ConditionExpression: "#version = :read",
        ExpressionAttributeNames: { "#version": "version" },
        ExpressionAttributeValues: marshall({ ":read": current.version }),
      }
    : { ConditionExpression: "attribute_not_exists(pk)" };
}

function stored(item: RecordState): StoredRecord {
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
