import {
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { Subscription, SubscriptionStore } from "../../domain/delivery/model.ts";
import { queryPages } from "./cursor.ts";
import { INTEGRATED_KEY_PREFIXES as KEY } from "./integrated-keys.ts";
import { readItem, withoutTableKeys } from "./items.ts";

/**
 * Subscriptions in the integrated table at `SUB#<datasetId>` / `<consumerSystem>`, so a batch's
 * fan-out reads a dataset's subscribers in one query; `byDataset` lists a system's
 * (`gsi1pk` = `SUBSCRIBER#<system>`).
 */
export class DynamoSubscriptionStore implements SubscriptionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async put(subscription: Subscription): Promise<Subscription | undefined> {
    const { Attributes } = await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(
          {
            pk: `${KEY.subscription}${subscription.datasetId}`,
            sk: subscription.consumerSystem,
            gsi1pk: `SUBSCRIBER#${subscription.consumerSystem}`,
            gsi1sk: subscription.datasetId,
            kind: "subscription",
            ...subscription,
          },
          { removeUndefinedValues: true },
        ),
        ReturnValues: "ALL_OLD",
      }),
    );
    return Attributes ? withoutTableKeys<Subscription>(unmarshall(Attributes)) : undefined;
  }

  async get(id: string): Promise<Subscription | undefined> {
    const key = keyOf(id);
    return key ? readItem<Subscription>(this.client, this.tableName, key) : undefined;
  }

  async delete(id: string): Promise<boolean> {
    const key = keyOf(id);
    if (!key) return false;
    const { Attributes } = await this.client.send(
      new DeleteItemCommand({ TableName: this.tableName, Key: marshall(key), ReturnValues: "ALL_OLD" }),
    );
    return Attributes !== undefined;
  }

  ofDataset(datasetId: string): Promise<Subscription[]> {
    return this.all({
      TableName: this.tableName,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: marshall({ ":pk": `${KEY.subscription}${datasetId}` }),
    });
  }

  ofConsumer(consumerSystem: string): Promise<Subscription[]> {
    return this.all({
      TableName: this.tableName,
      IndexName: "byDataset",
      KeyConditionExpression: "gsi1pk = :pk",
      ExpressionAttributeValues: marshall({ ":pk": `SUBSCRIBER#${consumerSystem}` }),
    });
  }

  /** Every item of a query: a dataset has few subscribers, a system few subscriptions. */
  private async all(input: QueryCommandInput): Promise<Subscription[]> {
    const found: Subscription[] = [];
    for await (const items of queryPages(this.client, input)) {
      for (const item of items) found.push(withoutTableKeys<Subscription>(item));
    }
    return found;
  }
}

/** `<datasetId>@<consumerSystem>` to the item's key. */
function keyOf(id: string): { pk: string; sk: string } | undefined {
  const at = id.indexOf("@");
  if (at <= 0 || at === id.length - 1) return undefined;
  return { pk: `${KEY.subscription}${id.slice(0, at)}`, sk: id.slice(at + 1) };
}
