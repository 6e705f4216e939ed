import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { ExportJob, ExportStore } from "../../domain/export/model.ts";
import { withoutTableKeys } from "./items.ts";
import { putNew } from "./writes.ts";

/** Export jobs at `EXPORT#<exportId>` in the integrated table, beside the data they package. */
export class DynamoExportStore implements ExportStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  create(job: ExportJob): Promise<void> {
    return putNew(
      this.client,
      this.tableName,
      { pk: `EXPORT#${job.exportId}`, sk: "EXPORT", kind: "export", ...job },
      `export ${job.exportId} exists`,
    );
  }

  async get(exportId: string): Promise<ExportJob | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `EXPORT#${exportId}`, sk: "EXPORT" }),
        ConsistentRead: true,
      }),
    );
    return Item ? withoutTableKeys<ExportJob>(unmarshall(Item)) : undefined;
  }

  async update(exportId: string, changes: Partial<ExportJob>): Promise<boolean> {
    const entries = Object.entries(changes).filter(([, value]) => value !== undefined);
    const names: Record<string, string> = { "#state": "state" };
    const values: Record<string, unknown> = { ":running": "running" };
    const sets = entries.map(([name, value], index) => {
      names[`#m${index}`] = name;
      values[`:m${index}`] = value;
      return `#m${index} = :m${index}`;
    });
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `EXPORT#${exportId}`, sk: "EXPORT" }),
          UpdateExpression: `SET ${sets.join(", ")}`,
          ConditionExpression: "#state = :running",
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
}
