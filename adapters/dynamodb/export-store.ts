import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { ExportJob, ExportStore } from "../../domain/export/model.ts";
import { INTEGRATED_KEY_PREFIXES as KEY } from "./integrated-keys.ts";
import { readItem } from "./items.ts";
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
      { pk: `${KEY.export}${job.exportId}`, sk: "EXPORT", kind: "export", ...job },
      `export ${job.exportId} exists`,
    );
  }

  get(exportId: string): Promise<ExportJob | undefined> {
    return readItem<ExportJob>(this.client, this.tableName, { pk: `${KEY.export}${exportId}`, sk: "EXPORT" });
  }

  update(exportId: string, changes: Partial<ExportJob>): Promise<boolean> {
    return updateIfState(
      this.client,
      this.tableName,
      { pk: `${KEY.export}${exportId}`, sk: "EXPORT" },
      "running",
      changes,
    );
  }
}
