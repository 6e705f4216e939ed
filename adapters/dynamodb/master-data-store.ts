import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { MasterDataItem, MasterDataStore } from "../../domain/master-data/master-data.ts";
import { queryPage } from "./cursor.ts";
import { equalityFilter, withoutTableKeys } from "./items.ts";

/** Master data items in the registry table at `MASTER#<code>`, listed through `gsi1` by code. */
export class DynamoMasterDataStore implements MasterDataStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async register(item: MasterDataItem): Promise<MasterDataItem | undefined> {
    const key = { pk: `MASTER#${item.code}`, sk: "MASTER" };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            { ...key, kind: "master-data", gsi1pk: "MASTERDATA", gsi1sk: item.code, ...item },
            { removeUndefinedValues: true },
          ),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: marshall(key), ConsistentRead: true }),
      );
      return withoutTableKeys<MasterDataItem>(unmarshall(Item ?? {}));
    }
  }

  list(filter: { level?: string; managingAgency?: string }, page: { limit: number; cursor?: string }) {
    const values: Record<string, unknown> = { ":all": "MASTERDATA" };
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :all",
        ...equalityFilter(filter, values),
        ExpressionAttributeValues: marshall(values),
      },
      page,
      (item) => withoutTableKeys<MasterDataItem>(item),
    );
  }
}
