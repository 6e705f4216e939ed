import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { ConflictError } from "../../domain/problem.ts";
import { type Batch, type BatchStore, batchKey } from "../../domain/sync/model.ts";
import { INTEGRATED_KEY_PREFIXES as KEY } from "./integrated-keys.ts";
import { withoutTableKeys } from "./items.ts";
import { conditional, putNew, updateExisting, updateIfState } from "./writes.ts";

/**
 * Sync batches at `BATCH#<providerSystem>/<batchId>` (their {@link batchKey}) in the integrated
 * table; chunk completion counted once each.
 */
export class DynamoBatchStore implements BatchStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async create(batch: Batch): Promise<Batch | undefined> {
    try {
      await putNew(
        this.client,
        this.tableName,
        {
          pk: `${KEY.batch}${batchKey(batch.providerSystem, batch.batchId)}`,
          sk: "BATCH",
          kind: "batch",
          ...withoutDeliveries(batch),
        },
        "",
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      return this.get(batchKey(batch.providerSystem, batch.batchId));
    }
  }

  async get(key: string): Promise<Batch | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `${KEY.batch}${key}`, sk: "BATCH" }),
        ConsistentRead: true,
      }),
    );
    return Item ? batchOf(unmarshall(Item)) : undefined;
  }

  /** A counter per dataset at `SEQUENCE#<datasetId>`, added to atomically. */
  async nextSequence(datasetId: string): Promise<number> {
    const { Attributes } = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `SEQUENCE#${datasetId}`, sk: "SEQUENCE" }),
        UpdateExpression: "ADD #last :one",
        ExpressionAttributeNames: { "#last": "last" },
        ExpressionAttributeValues: marshall({ ":one": 1 }),
        ReturnValues: "UPDATED_NEW",
      }),
    );
    return Number(unmarshall(Attributes ?? {}).last);
  }

  async completeChunk(key: string, chunk: number, counts: { applied: number; unchanged: number; superseded: number }) {
    const item = await updateExisting<Record<string, unknown>>(this.client, {
      TableName: this.tableName,
      Key: marshall({ pk: `${KEY.batch}${key}`, sk: "BATCH" }),
      UpdateExpression:
        "ADD chunksDone :one, applied :applied, unchanged :unchanged, superseded :superseded, doneChunks :chunk",
      ConditionExpression: "attribute_exists(pk) AND NOT contains(doneChunks, :number)",
      ExpressionAttributeValues: marshall({
        ":one": 1,
        ":applied": counts.applied,
        ":unchanged": counts.unchanged,
        ":superseded": counts.superseded,
        ":chunk": new Set([String(chunk)]),
        ":number": String(chunk),
      }),
    });
    return item && batchOf(item);
  }

  transition(key: string, from: Batch["state"], changes: Partial<Batch>): Promise<boolean> {
    return updateIfState(this.client, this.tableName, { pk: `${KEY.batch}${key}`, sk: "BATCH" }, from, changes);
  }

  async countDeliveries(key: string, delta: Partial<Batch["deliveries"]>): Promise<void> {
    const entries = Object.entries(delta).filter(([, value]) => value !== undefined && value !== 0);
    if (entries.length === 0) return;
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `${KEY.batch}${key}`, sk: "BATCH" }),
        UpdateExpression: `ADD ${entries.map(([name]) => `${COUNTERS[name as keyof typeof COUNTERS]} :${name}`).join(", ")}`,
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: marshall(Object.fromEntries(entries.map(([name, value]) => [`:${name}`, value]))),
      }),
    );
  }

  async finish(key: string, update: { tombstoned: number; completedAt: string }): Promise<boolean> {
    return conditional(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `${KEY.batch}${key}`, sk: "BATCH" }),
          UpdateExpression: "SET #state = :completed, tombstoned = :tombstoned, completedAt = :at",
          ConditionExpression: "#state = :processing",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: marshall({
            ":completed": "completed",
            ":processing": "processing",
            ":tombstoned": update.tombstoned,
            ":at": update.completedAt,
          }),
        }),
      ),
    );
  }
}

/** The batch's delivery counts, each its own attribute so that deliverers add to them at once. */
const COUNTERS = {
  expected: "deliveriesExpected",
  delivered: "deliveriesDelivered",
  failed: "deliveriesFailed",
  refused: "deliveriesRefused",
} as const;

function batchOf(item: Record<string, unknown>): Batch {
  const {
    doneChunks: _done,
    deliveriesExpected = 0,
    deliveriesDelivered = 0,
    deliveriesFailed = 0,
    deliveriesRefused = 0,
    ...batch
  } = withoutTableKeys<Omit<Batch, "deliveries"> & { doneChunks?: Set<string> } & Record<string, number>>(item);
  return {
    ...batch,
    deliveries: {
      expected: deliveriesExpected,
      delivered: deliveriesDelivered,
      failed: deliveriesFailed,
      refused: deliveriesRefused,
    },
  };
}

function withoutDeliveries(batch: Batch): Omit<Batch, "deliveries"> {
  const { deliveries: _counted, ...rest } = batch;
  return rest;
}
