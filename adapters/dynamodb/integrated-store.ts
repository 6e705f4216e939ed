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
import type { RecordChange } from "../../domain/delivery/model.ts";
import { canonicalJson } from "../../domain/exchange-log/chain.ts";
import type { Applied, ApplyInput, IntegratedStore, Operation, StoredRecord } from "../../domain/sync/model.ts";
import { queryPage } from "./cursor.ts";

const VERSION_DIGITS = 10;

interface Current extends StoredRecord {
  /** `<batchId>#<index>` of the last operation applied: a replay of it is a no-op. */
  readonly lastOp: string;
  /** The last full sync that carried the record. */
  readonly seenIn?: string;
}

/**
 * The National Integrated Database (Art. 7.2c): each record at `<datasetId>#<key>` / `CURRENT`
 * with its version and source batch, every earlier version kept at `V#<version>`; live records
 * of a dataset listed through `byDataset` (`gsi1pk` = dataset, `gsi1sk` = key). Writes are
 * conditional on the version read, so concurrent batches never lose an update.
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
      if (current?.lastOp === lastOp) {
        // Applied before: the version it made is handed on again (if this batch made it), so a
        // delivery lost with a crashed worker is made again; consumers apply it once by its key.
        return current.sourceBatch === input.batchId
          ? { outcome: "replayed", change: changeOf(current) }
          : { outcome: "replayed" };
      }
      const live = current !== undefined && !current.deleted;
      try {
        if (input.operation.op === "delete") {
          if (!live) return { outcome: "absent" };
          const version = await this.write(current, { record: {}, deleted: true }, input, lastOp, "delete");
          return {
            outcome: "deleted",
            change: { key: input.key, version, op: "delete", record: {}, changedAt: input.at },
          };
        }
        const record = input.operation.record;
        if (live && canonicalJson(current.record) === canonicalJson(record)) {
          // The same record again: no new version, but the batch has seen it.
          await this.touch(current, lastOp, input.fullSync ? input.batchId : undefined);
          return { outcome: "unchanged" };
        }
        const version = await this.write(current, { record, deleted: false }, input, lastOp, "upsert");
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

  async get(datasetId: string, key: string): Promise<StoredRecord | undefined> {
    const current = await this.current(datasetId, key);
    return current && !current.deleted ? stored(current) : undefined;
  }

  query(datasetId: string, filters: Readonly<Record<string, unknown>>, page: { limit: number; cursor?: string }) {
    const names: Record<string, string> = { "#record": "record", "#deleted": "deleted" };
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
    batchId: string,
    at: string,
    onPage?: (page: number, deleted: readonly RecordChange[]) => Promise<void>,
  ): Promise<number> {
    let count = 0;
    let page = 0;
    let cursor: Record<string, AttributeValue> | undefined;
    do {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: "byDataset",
          KeyConditionExpression: "gsi1pk = :dataset",
          FilterExpression: "#deleted <> :deleted AND (attribute_not_exists(#seenIn) OR #seenIn <> :batch)",
          ExpressionAttributeNames: { "#deleted": "deleted", "#seenIn": "seenIn" },
          ExpressionAttributeValues: marshall({ ":dataset": datasetId, ":deleted": true, ":batch": batchId }),
          ...(cursor ? { ExclusiveStartKey: cursor } : {}),
        }),
      );
      const deleted: RecordChange[] = [];
      for (const item of Items) {
        const { key } = unmarshall(item) as Current;
        const { outcome, change } = await this.apply({
          datasetId,
          key,
          operation: { op: "delete", key },
          batchId: `${batchId}:absent`,
          index: 0,
          fullSync: false,
          at,
        });
        if (outcome === "deleted") count++;
        if (change) deleted.push(change);
      }
      if (onPage && deleted.length > 0) await onPage(page++, deleted);
      cursor = LastEvaluatedKey;
    } while (cursor);
    return count;
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

  /** The next version, conditional on the one read; then the history entry of it. */
  private async write(
    current: Current | undefined,
    next: { record: Record<string, unknown>; deleted: boolean },
    input: ApplyInput,
    lastOp: string,
    op: Operation["op"],
  ): Promise<number> {
    const version = (current?.version ?? 0) + 1;
    const pk = `${input.datasetId}#${input.key}`;
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(
          {
            pk,
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
            ...(input.fullSync ? { seenIn: input.batchId } : current?.seenIn ? { seenIn: current.seenIn } : {}),
          },
          { removeUndefinedValues: true },
        ),
        ConditionExpression: current ? "#version = :read" : "attribute_not_exists(pk)",
        ...(current
          ? {
              ExpressionAttributeNames: { "#version": "version" },
              ExpressionAttributeValues: marshall({ ":read": current.version }),
            }
          : {}),
      }),
    );
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(
          {
            pk,
            sk: `V#${String(version).padStart(VERSION_DIGITS, "0")}`,
            version,
            op,
            record: next.record,
            batchId: input.batchId,
            at: input.at,
          },
          { removeUndefinedValues: true },
        ),
      }),
    );
    return version;
  }

  private async touch(current: Current, lastOp: string, seenIn: string | undefined): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `${current.datasetId}#${current.key}`, sk: "CURRENT" }),
        UpdateExpression: seenIn ? "SET #lastOp = :op, #seenIn = :seen" : "SET #lastOp = :op",
        ConditionExpression: "#version = :read",
        ExpressionAttributeNames: {
          "#lastOp": "lastOp",
          "#version": "version",
          ...(seenIn ? { "#seenIn": "seenIn" } : {}),
        },
        ExpressionAttributeValues: marshall({
          ":op": lastOp,
          ":read": current.version,
          ...(seenIn ? { ":seen": seenIn } : {}),
        }),
      }),
    );
  }
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
