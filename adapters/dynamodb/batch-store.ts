import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { ConflictError } from "../../domain/identity/errors.ts";
import type { Batch, BatchStore } from "../../domain/sync/model.ts";
import { withoutTableKeys } from "./items.ts";
import { putNew } from "./writes.ts";

/** Sync batches at `BATCH#<batchId>` in the integrated table; chunk completion counted once each. */
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
        { pk: `BATCH#${batch.batchId}`, sk: "BATCH", kind: "batch", ...batch },
        "",
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      return this.get(batch.batchId);
    }
  }

  async get(batchId: string): Promise<Batch | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `BATCH#${batchId}`, sk: "BATCH" }),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const { doneChunks: _done, ...batch } = withoutTableKeys<Batch & { doneChunks?: Set<string> }>(unmarshall(Item));
    return batch;
  }

  async completeChunk(batchId: string, chunk: number, counts: { applied: number; unchanged: number }) {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `BATCH#${batchId}`, sk: "BATCH" }),
          UpdateExpression: "ADD chunksDone :one, applied :applied, unchanged :unchanged, doneChunks :chunk",
          ConditionExpression: "attribute_exists(pk) AND NOT contains(doneChunks, :number)",
          ExpressionAttributeValues: marshall({
            ":one": 1,
            ":applied": counts.applied,
            ":unchanged": counts.unchanged,
            ":chunk": new Set([String(chunk)]),
            ":number": String(chunk),
          }),
          ReturnValues: "ALL_NEW",
        }),
      );
      const { doneChunks: _done, ...batch } = withoutTableKeys<Batch & { doneChunks?: Set<string> }>(
        unmarshall(Attributes ?? {}),
      );
      return batch;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async transition(batchId: string, from: Batch["state"], changes: Partial<Batch>): Promise<boolean> {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
    const names: Record<string, string> = { "#state": "state" };
    const values: Record<string, unknown> = { ":from": from };
    const sets = entries.map(([name, value], index) => {
      names[`#m${index}`] = name;
      values[`:m${index}`] = value;
      return `#m${index} = :m${index}`;
    });
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `BATCH#${batchId}`, sk: "BATCH" }),
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: "#state = :from",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async finish(batchId: string, update: { tombstoned: number; completedAt: string }): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `BATCH#${batchId}`, sk: "BATCH" }),
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
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
