import { DeleteItemCommand, type DynamoDBClient, GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type {
  Agency,
  EndpointStatus,
  KeyRecord,
  Page,
  RegistryStore,
  SystemFilter,
  SystemRecord,
} from "../../domain/registry/model.ts";
import { queryPage } from "./cursor.ts";
import { withoutTableKeys } from "./items.ts";
import { conditional, putNew, updateExisting } from "./writes.ts";

/**
 * The registry in one DynamoDB table: an agency at `AGENCY#<code>`, a system and its keys
 * together under `SYSTEM#<id>` (so authentication reads them in one query), agencies listed
 * through `gsi1` (all of them, and each agency's systems), every system listed through `gsi2` by
 * its endpoint's status then its id (`<status>#<id>`: what awaits approval is one key range, an
 * agency's part of it a narrower one, as system ids start with their agency's code). No
 * transactions: each write is one conditional item write, and a registration that fails
 * part-way removes what it wrote.
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

  async listSystems(filter: SystemFilter, page: { limit: number; cursor?: string }): Promise<Page<SystemRecord>> {
    const toSystem = (item: Record<string, unknown>) => withoutTableKeys<SystemRecord>(item);
    if (filter.endpointStatus) {
      // One key range of the systems index, never a filter over everything.
      const prefix = `${filter.endpointStatus}#${filter.agency ? `${filter.agency}.` : ""}`;
      return queryPage(
        this.client,
        {
          TableName: this.tableName,
          IndexName: "gsi2",
          KeyConditionExpression: "gsi2pk = :systems AND begins_with(gsi2sk, :prefix)",
          ExpressionAttributeValues: marshall({ ":systems": SYSTEMS_PARTITION, ":prefix": prefix }),
        },
        page,
        toSystem,
      );
    }
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: filter.agency ? "gsi1" : "gsi2",
        KeyConditionExpression: filter.agency ? "gsi1pk = :systems" : "gsi2pk = :systems",
        ExpressionAttributeValues: marshall({
          ":systems": filter.agency ? `AGENCY#${filter.agency}#SYSTEMS` : SYSTEMS_PARTITION,
        }),
      },
      page,
      toSystem,
    );
  }

  async createSystem(system: SystemRecord, keys: readonly KeyRecord[]): Promise<void> {
    // The system item is the commit point of ownership: only the request that creates it goes on
    // to write keys under it, so a request that loses the race, or fails, never attaches a key to
    // a system it did not create. Without transactions (dynalite has none), what a failure leaves
    // half-written is removed again before the error goes on.
    await this.putNew(systemItem(system), `system ${system.id} is already registered`);
    const written: KeyRecord[] = [];
    try {
      await this.removeStrayKeys(system);
      for (const key of keys) {
        await this.putNew(keyItem(key), `key ${key.kid} already exists`);
        written.push(key);
      }
    } catch (error) {
      try {
        await this.undoRegistration(system, written);
      } catch (undoError) {
        throw new AggregateError([error, undoError], `registering ${system.id} failed and was not fully undone`);
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

  async changeEndpoint(systemId: string, endpoint: string): Promise<SystemRecord | undefined> {
    return updateExisting<SystemRecord>(this.client, {
      TableName: this.tableName,
      Key: marshall({ pk: `SYSTEM#${systemId}`, sk: "SYSTEM" }),
      // A new endpoint is pending again: the previous approval does not carry over.
      UpdateExpression:
        "SET #endpoint = :endpoint, endpointStatus = :pending, gsi2pk = :systems, gsi2sk = :listed REMOVE endpointApprovedBy, endpointApprovedAt",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeNames: { "#endpoint": "endpoint" },
      ExpressionAttributeValues: marshall({
        ":endpoint": endpoint,
        ":pending": "pending",
        ":systems": SYSTEMS_PARTITION,
        ":listed": systemsSortKey(systemId, "pending"),
      }),
    });
  }

  async approveEndpoint(
    systemId: string,
    endpoint: string,
    approval: { approvedBy: string; approvedAt: string },
  ): Promise<SystemRecord | undefined> {
    return updateExisting<SystemRecord>(this.client, {
      TableName: this.tableName,
      Key: marshall({ pk: `SYSTEM#${systemId}`, sk: "SYSTEM" }),
      UpdateExpression:
        "SET endpointStatus = :approved, endpointApprovedBy = :by, endpointApprovedAt = :at, gsi2pk = :systems, gsi2sk = :listed",
      // Approves the endpoint the operator reviewed, never one that replaced it meanwhile.
      ConditionExpression: "attribute_exists(pk) AND #endpoint = :endpoint",
      ExpressionAttributeNames: { "#endpoint": "endpoint" },
      ExpressionAttributeValues: marshall({
        ":approved": "approved",
        ":by": approval.approvedBy,
        ":at": approval.approvedAt,
        ":endpoint": endpoint,
        ":systems": SYSTEMS_PARTITION,
        ":listed": systemsSortKey(systemId, "approved"),
      }),
    });
  }

  async revokeKey(systemId: string, kid: string, at: string): Promise<KeyRecord | undefined> {
    return updateExisting<KeyRecord>(this.client, {
      TableName: this.tableName,
      Key: marshall({ pk: `SYSTEM#${systemId}`, sk: `KEY#${kid}` }),
      // Revoking twice keeps the first revocation time.
      UpdateExpression: "SET #status = :revoked, revokedAt = if_not_exists(revokedAt, :at)",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: marshall({ ":revoked": "revoked", ":at": at }),
    });
  }

  /**
   * A system that did not exist has no keys: a key item found under its id older than the
   * system was left by an earlier release's failed registration, and is deleted, never adopted.
   */
  private async removeStrayKeys(system: SystemRecord): Promise<void> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :key)",
        ExpressionAttributeValues: marshall({ ":pk": `SYSTEM#${system.id}`, ":key": "KEY#" }),
        ConsistentRead: true,
      }),
    );
    for (const item of Items.map((raw) => unmarshall(raw))) {
      if (String(item.createdAt) >= system.createdAt) continue;
      await this.deleteIf({ pk: String(item.pk), sk: String(item.sk) }, "createdAt < :at", { ":at": system.createdAt });
    }
  }

  /** Removes the keys this registration wrote, then its system item (still the one it wrote). */
  private async undoRegistration(system: SystemRecord, written: readonly KeyRecord[]): Promise<void> {
    for (const key of written) {
      await this.deleteIf({ pk: `SYSTEM#${key.systemId}`, sk: `KEY#${key.kid}` }, "createdAt = :at", {
        ":at": key.createdAt,
      });
    }
    await this.deleteIf({ pk: `SYSTEM#${system.id}`, sk: "SYSTEM" }, "createdAt = :at", { ":at": system.createdAt });
  }

  /** Deletes an item if `condition` holds; an item already gone or changed is left alone. */
  private async deleteIf(key: Record<string, string>, condition: string, values: Record<string, unknown>) {
    await conditional(
      this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: marshall(key),
          ConditionExpression: condition,
          ExpressionAttributeValues: marshall(values),
        }),
      ),
    );
  }

  private putNew(item: Record<string, unknown>, conflict: string): Promise<void> {
    return putNew(this.client, this.tableName, item, conflict);
  }
}

/** The `gsi2` partition every system is listed in. */
const SYSTEMS_PARTITION = "SYSTEMS";

/** A system's place in `gsi2`: by its endpoint's status (`none` without an endpoint), then its id. */
function systemsSortKey(id: string, endpointStatus: EndpointStatus | undefined): string {
  return `${endpointStatus ?? "none"}#${id}`;
}

function systemItem(system: SystemRecord): Record<string, unknown> {
  return {
    pk: `SYSTEM#${system.id}`,
    sk: "SYSTEM",
    gsi1pk: `AGENCY#${system.agencyCode}#SYSTEMS`,
    gsi1sk: system.id,
    gsi2pk: SYSTEMS_PARTITION,
    gsi2sk: systemsSortKey(system.id, system.endpointStatus),
    kind: "system",
    ...system,
  };
}

function keyItem(key: KeyRecord): Record<string, unknown> {
  return { pk: `SYSTEM#${key.systemId}`, sk: `KEY#${key.kid}`, kind: "key", ...key };
}
