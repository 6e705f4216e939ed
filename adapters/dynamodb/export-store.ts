import { type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { ExportJob, ExportStore } from "../../domain/export/model.ts";
import { withoutTableKeys } from "./items.ts";
import { putNew, updateIfState } from "./writes.ts";

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

  update(exportId: string, changes: Partial<ExportJob>): Promise<boolean> {
    return updateIfState(this.client, this.tableName, { pk: `EXPORT#${exportId}`, sk: "EXPORT" }, "running", changes);
  }
}
