import { type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { CatalogFilter, CatalogStore, Dataset } from "../../domain/catalog/model.ts";
import { queryPage } from "./cursor.ts";
import { withoutTableKeys } from "./items.ts";
import { putIfRevision, putNew } from "./writes.ts";

/**
 * Datasets in the registry table at `DATASET#<id>`, listed through `gsi1` in agency order
 * (`<agency>#<id>`), so the per-agency filter is a key condition and the rest are filters.
 */
export class DynamoCatalogStore implements CatalogStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  createDataset(dataset: Dataset): Promise<void> {
    return putNew(this.client, this.tableName, item(dataset), `dataset ${dataset.id} is already in the catalog`);
  }

  async getDataset(id: string): Promise<Dataset | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `DATASET#${id}`, sk: "DATASET" }),
        ConsistentRead: true,
      }),
    );
    return Item ? toDataset(unmarshall(Item)) : undefined;
  }

  replaceDataset(next: Dataset, expectedRevision: number): Promise<boolean> {
    return putIfRevision(this.client, this.tableName, item(next), expectedRevision);
  }

  async listDatasets(filter: CatalogFilter, page: { limit: number; cursor?: string }) {
    const values: Record<string, unknown> = { ":all": "DATASETS" };
    const conditions: string[] = [];
    const names: Record<string, string> = {};
    let keyCondition = "gsi1pk = :all";
    if (filter.agency) {
      keyCondition += " AND begins_with(gsi1sk, :agency)";
      values[":agency"] = `${filter.agency}#`;
    }
    if (filter.classification) {
      conditions.push("classification = :classification");
      values[":classification"] = filter.classification;
    }
    if (filter.mandatory) {
      conditions.push("mandatory = :mandatory");
      values[":mandatory"] = filter.mandatory;
    }
    if (filter.crossBorderAllowed !== undefined) {
      conditions.push("crossBorderAllowed = :crossBorder");
      values[":crossBorder"] = filter.crossBorderAllowed;
    }
    if (filter.method) {
      conditions.push("contains(#methods, :method)");
      names["#methods"] = "methods";
      values[":method"] = filter.method;
    }
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: "gsi1",
        KeyConditionExpression: keyCondition,
        ...(conditions.length > 0 ? { FilterExpression: conditions.join(" AND ") } : {}),
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: marshall(values),
      },
      page,
      toDataset,
    );
  }
}

function item(dataset: Dataset): Record<string, unknown> {
  return {
    pk: `DATASET#${dataset.id}`,
    sk: "DATASET",
    gsi1pk: "DATASETS",
    gsi1sk: `${dataset.managingAgency}#${dataset.id}`,
    kind: "dataset",
    ...dataset,
  };
}

function toDataset(entry: Record<string, unknown>): Dataset {
  return withoutTableKeys<Dataset>(entry);
}
