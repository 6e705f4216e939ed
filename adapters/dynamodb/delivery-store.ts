import { DeleteItemCommand, type DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type {
  DeliveryMessage,
  DeliveryRecord,
  DeliveryState,
  DeliveryStore,
  InboxMessage,
} from "../../domain/delivery/model.ts";
import { queryPage } from "./cursor.ts";
import { INTEGRATED_KEY_PREFIXES as KEY } from "./integrated-keys.ts";
import { readItem, withoutTableKeys } from "./items.ts";
import { conditional } from "./writes.ts";

/**
 * Delivery messages' states at `DELIVERY#<providerSystem>/<batchId>` / `<messageId>`, and consumers' inboxes at
 * `INBOX#<consumerSystem>` / `<deliveredAt>#<messageId>` (the receipt), both in the integrated
 * table: one conditional write moves a message from one state to the next.
 */
export class DynamoDeliveryStore implements DeliveryStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async register(batch: string, record: DeliveryRecord): Promise<boolean> {
    return conditional(
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            { pk: `${KEY.delivery}${batch}`, sk: record.messageId, kind: "delivery", ...record },
            { removeUndefinedValues: true },
          ),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
    );
  }

  get(batch: string, messageId: string): Promise<DeliveryRecord | undefined> {
    return readItem<DeliveryRecord>(this.client, this.tableName, { pk: `${KEY.delivery}${batch}`, sk: messageId });
  }

  async transition(
    batch: string,
    messageId: string,
    from: readonly DeliveryState[],
    to: DeliveryState,
    changes: { attempts: number; at: string; lastError?: string },
  ): Promise<boolean> {
    const states = Object.fromEntries(from.map((state, index) => [`:from${index}`, state]));
    return conditional(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `${KEY.delivery}${batch}`, sk: messageId }),
          UpdateExpression: `SET #state = :to, attempts = :attempts, updatedAt = :at${changes.lastError ? ", lastError = :error" : ""}`,
          ConditionExpression: `#state IN (${Object.keys(states).join(", ")})`,
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: marshall({
            ...states,
            ":to": to,
            ":attempts": changes.attempts,
            ":at": changes.at,
            ...(changes.lastError ? { ":error": changes.lastError.slice(0, 1000) } : {}),
          }),
        }),
      ),
    );
  }

  async attempted(
    batch: string,
    messageId: string,
    changes: { attempts: number; at: string; lastError: string },
  ): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `${KEY.delivery}${batch}`, sk: messageId }),
        UpdateExpression: "SET attempts = :attempts, updatedAt = :at, lastError = :error",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: marshall({
          ":attempts": changes.attempts,
          ":at": changes.at,
          ":error": changes.lastError.slice(0, 1000),
        }),
      }),
    );
  }

  list(batch: string, state: DeliveryState | undefined, page: { limit: number; cursor?: string }) {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ...(state ? { FilterExpression: "#state = :state", ExpressionAttributeNames: { "#state": "state" } } : {}),
        ExpressionAttributeValues: marshall({
          ":pk": `${KEY.delivery}${batch}`,
          ...(state ? { ":state": state } : {}),
        }),
      },
      page,
      (item) => withoutTableKeys<DeliveryRecord>(item),
    );
  }

  async deposit(message: DeliveryMessage, at: string): Promise<void> {
    const receipt = `${message.createdAt}#${message.messageId}`;
    const kept: InboxMessage = {
      receipt,
      messageId: message.messageId,
      batchId: message.batchId,
      datasetId: message.datasetId,
      providerSystem: message.providerSystem,
      records: message.records,
      deliveredAt: at,
    };
    // Deposited before (the same message again): once is enough.
    await conditional(
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            { pk: `${KEY.inbox}${message.consumerSystem}`, sk: receipt, kind: "inbox", ...kept },
            { removeUndefinedValues: true },
          ),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      ),
    );
  }

  inbox(consumerSystem: string, datasetId: string | undefined, page: { limit: number; cursor?: string }) {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ...(datasetId ? { FilterExpression: "datasetId = :dataset" } : {}),
        ExpressionAttributeValues: marshall({
          ":pk": `${KEY.inbox}${consumerSystem}`,
          ...(datasetId ? { ":dataset": datasetId } : {}),
        }),
        ConsistentRead: true,
      },
      page,
      (item) => withoutTableKeys<InboxMessage>(item),
    );
  }

  async ack(consumerSystem: string, receipts: readonly string[]): Promise<string[]> {
    // One delete each, which says whether the message was there.
    const removed = await Promise.all(
      [...new Set(receipts)].map(async (receipt) => {
        const { Attributes } = await this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: marshall({ pk: `${KEY.inbox}${consumerSystem}`, sk: receipt }),
            ReturnValues: "ALL_OLD",
          }),
        );
        return Attributes ? receipt : undefined;
      }),
    );
    return removed.filter((receipt): receipt is string => receipt !== undefined);
  }
}
