import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { ConflictError } from "../../domain/identity/errors.ts";
import type { Agency, KeyRecord, Page, RegistryStore, SystemRecord } from "../../domain/registry/model.ts";
import { queryPage } from "./cursor.ts";
import { withoutTableKeys } from "./items.ts";
import { putNew } from "./writes.ts";

/**
 * The registry in one DynamoDB table: an agency at `AGENCY#<code>`, a system and its keys
 * together under `SYSTEM#<id>` (so authentication reads them in one query), agencies listed
 * through `gsi1`. No transactions: each write is one conditional item write.
 */
export class DynamoRegistryStore implements RegistryStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async createAgency(agency: Agency): Promise<void> {
    await this.putNew(
      { pk: `AGENCY#${agency.code}`, sk: "AGENCY", gsi1pk: "AGENCIES", gsi1sk: agency.code, kind: "agency", ...agency },
      `agency ${agency.code} is already registered`,
    );
  }

  async getAgency(code: string): Promise<Agency | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: marshall({ pk: `AGENCY#${code}`, sk: "AGENCY" }) }),
    );
    return Item ? (withoutTableKeys(unmarshall(Item)) as unknown as Agency) : undefined;
  }

  async listAgencies(options: { limit: number; cursor?: string }): Promise<Page<Agency>> {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :agencies",
        ExpressionAttributeValues: marshall({ ":agencies": "AGENCIES" }),
      },
      options,
      (item) => withoutTableKeys<Agency>(item),
    );
  }

  async createSystem(system: SystemRecord, keys: readonly KeyRecord[]): Promise<void> {
    // The system item is the commit point: keys written first are invisible to authentication
    // until it exists, and a lost race removes them again.
    for (const key of keys) await this.putNew(keyItem(key), `key ${key.kid} already exists`);
    try {
      await this.putNew(
        {
          pk: `SYSTEM#${system.id}`,
          sk: "SYSTEM",
          gsi1pk: `AGENCY#${system.agencyCode}#SYSTEMS`,
          gsi1sk: system.id,
          kind: "system",
          ...system,
        },
        `system ${system.id} is already registered`,
      );
    } catch (error) {
      if (error instanceof ConflictError && keys.length > 0) {
        const existing = await this.getSystem(system.id);
        const ours = keys.filter((key) =>
          existing?.keys.some((stored) => stored.kid === key.kid && stored.createdAt === key.createdAt),
        );
        for (const key of ours) {
          await this.client.send(
            new DeleteItemCommand({
              TableName: this.tableName,
              Key: marshall({ pk: `SYSTEM#${key.systemId}`, sk: `KEY#${key.kid}` }),
            }),
          );
        }
      }
      throw error;
    }
  }

  async getSystem(id: string): Promise<{ system: SystemRecord; keys: KeyRecord[] } | undefined> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: marshall({ ":pk": `SYSTEM#${id}` }),
        ConsistentRead: true,
      }),
    );
    const items = Items.map((item) => unmarshall(item));
    const system = items.find((item) => item.sk === "SYSTEM");
    if (!system) return undefined;
    return {
      system: withoutTableKeys(system) as unknown as SystemRecord,
      keys: items
        .filter((item) => String(item.sk).startsWith("KEY#"))
        .map((item) => withoutTableKeys(item) as unknown as KeyRecord),
    };
  }

  async addKey(key: KeyRecord): Promise<void> {
    await this.putNew(keyItem(key), `${key.systemId} already has a key ${key.kid}`);
  }

  async revokeKey(systemId: string, kid: string, at: string): Promise<KeyRecord | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: `SYSTEM#${systemId}`, sk: `KEY#${kid}` }),
          // Revoking twice keeps the first revocation time.
          UpdateExpression: "SET #status = :revoked, revokedAt = if_not_exists(revokedAt, :at)",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: marshall({ ":revoked": "revoked", ":at": at }),
          ReturnValues: "ALL_NEW",
        }),
      );
      return Attributes ? (withoutTableKeys(unmarshall(Attributes)) as unknown as KeyRecord) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  private putNew(item: Record<string, unknown>, conflict: string): Promise<void> {
    return putNew(this.client, this.tableName, item, conflict);
  }
}

function keyItem(key: KeyRecord): Record<string, unknown> {
  return { pk: `SYSTEM#${key.systemId}`, sk: `KEY#${key.kid}`, kind: "key", ...key };
}
