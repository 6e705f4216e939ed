import {
  BatchWriteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type {
  CodeEntry,
  CodeList,
  DictionaryStore,
  Field,
  FieldStatus,
  SchemaSummary,
  SchemaVersion,
} from "../../domain/dictionary/model.ts";
import { cached } from "../cache/ttl-cache.ts";
import { queryPage, queryPages } from "./cursor.ts";
import { equalityFilter, readItem, withoutTableKeys } from "./items.ts";
import { putIfRevision, putNew } from "./writes.ts";

/**
 * The dictionary in the registry table: fields at `FIELD#<code>`, code lists at
 * `CODELIST#<code>` with one item per entry (`CODE#<code>`), schema versions at
 * `SCHEMA#<id>` / `VERSION#<0001.0002.0003>` (sorted, so the newest is one query away) with a
 * summary item per schema. Listings go through `gsi1`.
 */
export class DynamoDictionaryStore implements DictionaryStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  createField(field: Field): Promise<void> {
    return putNew(this.client, this.tableName, fieldItem(field), `field ${field.code} is already in the dictionary`);
  }

  getField(code: string): Promise<Field | undefined> {
    return this.get<Field>(`FIELD#${code}`, "FIELD");
  }

  replaceField(next: Field, expectedRevision: number): Promise<boolean> {
    return putIfRevision(this.client, this.tableName, fieldItem(next), expectedRevision);
  }

  listFields(filter: { status?: FieldStatus; owner?: string }, page: { limit: number; cursor?: string }) {
    const values: Record<string, unknown> = { ":all": "FIELDS" };
    const filterExpression = equalityFilter(filter, values);
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :all",
        ...filterExpression,
        ExpressionAttributeValues: marshall(values),
      },
      page,
      (item) => withoutTableKeys<Field>(item),
    );
  }

  async createCodeList(list: CodeList, entries: readonly CodeEntry[]): Promise<void> {
    await putNew(
      this.client,
      this.tableName,
      {
        pk: `CODELIST#${list.code}`,
        sk: "CODELIST",
        kind: "code-list",
        gsi1pk: "CODELISTS",
        gsi1sk: list.code,
        ...list,
      },
      `code list ${list.code} is already in the dictionary`,
    );
    await this.batchPut(entries.map((entry) => entryItem(list.code, entry)));
  }

  getCodeList(code: string): Promise<CodeList | undefined> {
    return this.get<CodeList>(`CODELIST#${code}`, "CODELIST");
  }

  listCodeLists(page: { limit: number; cursor?: string }) {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :all",
        ExpressionAttributeValues: marshall({ ":all": "CODELISTS" }),
      },
      page,
      (item) => withoutTableKeys<CodeList>(item),
    );
  }

  async putCodeEntries(code: string, entries: readonly CodeEntry[], at: string): Promise<CodeList> {
    let added = 0;
    // Eight writes at a time; each says whether its code is new, so the count stays exact.
    for (let start = 0; start < entries.length; start += 8) {
      const results = await Promise.all(
        entries.slice(start, start + 8).map((entry) =>
          this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: marshall(entryItem(code, entry), { removeUndefinedValues: true }),
              ReturnValues: "ALL_OLD",
            }),
          ),
        ),
      );
      added += results.filter((result) => !result.Attributes).length;
    }
    const { Attributes } = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall({ pk: `CODELIST#${code}`, sk: "CODELIST" }),
        UpdateExpression: "ADD entryCount :added SET updatedAt = :at",
        ExpressionAttributeValues: marshall({ ":added": added, ":at": at }),
        ReturnValues: "ALL_NEW",
      }),
    );
    return withoutTableKeys<CodeList>(unmarshall(Attributes ?? {}));
  }

  listCodeEntries(code: string, page: { limit: number; cursor?: string }) {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: "pk = :list AND begins_with(sk, :entry)",
        ExpressionAttributeValues: marshall({ ":list": `CODELIST#${code}`, ":entry": "CODE#" }),
      },
      page,
      (item) => withoutTableKeys<CodeEntry>(item),
    );
  }

  async *allCodes(code: string): AsyncIterable<string> {
    for await (const items of queryPages(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: "pk = :list AND begins_with(sk, :entry)",
      ExpressionAttributeValues: marshall({ ":list": `CODELIST#${code}`, ":entry": "CODE#" }),
      ProjectionExpression: "code",
    })) {
      for (const item of items) yield String(item.code);
    }
  }

  async createSchemaVersion(version: SchemaVersion): Promise<void> {
    await putNew(
      this.client,
      this.tableName,
      { pk: `SCHEMA#${version.id}`, sk: `VERSION#${sortable(version.version)}`, kind: "schema-version", ...version },
      `${version.id} ${version.version} is already published; published versions never change`,
    );
    const summary: SchemaSummary = {
      id: version.id,
      owner: version.owner,
      title: version.title,
      latestVersion: version.version,
      updatedAt: version.publishedAt,
    };
    // The summary follows the newest version; an older one published late leaves it alone.
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall({
            pk: `SCHEMA#${version.id}`,
            sk: "SCHEMA",
            kind: "schema",
            gsi1pk: "SCHEMAS",
            gsi1sk: version.id,
            latestSort: sortable(version.version),
            ...summary,
          }),
          ConditionExpression: "attribute_not_exists(pk) OR latestSort < :sort",
          ExpressionAttributeValues: marshall({ ":sort": sortable(version.version) }),
        }),
      );
    } catch (error) {
      if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
    }
  }

  getSchemaVersion(id: string, version: string): Promise<SchemaVersion | undefined> {
    if (!/^\d{1,4}\.\d{1,4}\.\d{1,4}$/.test(version)) return Promise.resolve(undefined);
    return this.get<SchemaVersion>(`SCHEMA#${id}`, `VERSION#${sortable(version)}`);
  }

  async latestSchemaVersion(id: string): Promise<SchemaVersion | undefined> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :schema AND begins_with(sk, :version)",
        ExpressionAttributeValues: marshall({ ":schema": `SCHEMA#${id}`, ":version": "VERSION#" }),
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return Items[0] ? withoutTableKeys<SchemaVersion>(unmarshall(Items[0])) : undefined;
  }

  listSchemaVersions(id: string, page: { limit: number; cursor?: string }) {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        KeyConditionExpression: "pk = :schema AND begins_with(sk, :version)",
        ExpressionAttributeValues: marshall({ ":schema": `SCHEMA#${id}`, ":version": "VERSION#" }),
        ScanIndexForward: false,
      },
      page,
      (item) => withoutTableKeys<SchemaVersion>(item),
    );
  }

  listSchemas(page: { limit: number; cursor?: string }) {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :all",
        ExpressionAttributeValues: marshall({ ":all": "SCHEMAS" }),
      },
      page,
      (item) => {
        const { latestSort: _latestSort, ...summary } = withoutTableKeys<SchemaSummary & { latestSort?: string }>(item);
        return summary;
      },
    );
  }

  private get<T>(pk: string, sk: string): Promise<T | undefined> {
    return readItem<T>(this.client, this.tableName, { pk, sk });
  }

  /** Batch writes of 25, retrying what DynamoDB leaves unprocessed. */
  private async batchPut(items: readonly Record<string, unknown>[]): Promise<void> {
    for (let start = 0; start < items.length; start += 25) {
      let pending: WriteRequest[] = items
        .slice(start, start + 25)
        .map((item) => ({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
        if (attempt > 8) throw new Error(`${pending.length} code list entries were not written`);
        const { UnprocessedItems } = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = UnprocessedItems?.[this.tableName] ?? [];
      }
    }
  }
}

/** `1.10.2` as `0001.0010.0002`, so versions sort as text. */
function sortable(version: string): string {
  return version
    .split(".")
    .map((part) => part.padStart(4, "0"))
    .join(".");
}

function fieldItem(field: Field): Record<string, unknown> {
  return { pk: `FIELD#${field.code}`, sk: "FIELD", kind: "field", gsi1pk: "FIELDS", gsi1sk: field.code, ...field };
}

function entryItem(list: string, entry: CodeEntry): Record<string, unknown> {
  return { pk: `CODELIST#${list}`, sk: `CODE#${entry.code}`, kind: "code", ...entry };
}

/**
 * Schema versions as the exchange and sync functions read them: published versions never
 * change, so each is read once and kept for the environment's life (at most 200).
 */
export function cachedSchemaVersions(
  store: Pick<DictionaryStore, "getSchemaVersion">,
): (id: string, version: string) => Promise<SchemaVersion | undefined> {
  const versions = cached(
    (key: string) => {
      const [id = "", version = ""] = key.split("@");
      return store.getSchemaVersion(id, version);
    },
    { ttlMs: Number.POSITIVE_INFINITY, maxEntries: 200 },
  );
  return (id, version) => versions(`${id}@${version}`);
}
