import { type DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type {
  AccessRequest,
  Permission,
  PermissionListFilter,
  PermissionScope,
  PermissionStore,
} from "../../domain/permissions/model.ts";
import { cached } from "../cache/ttl-cache.ts";
import { queryPage, queryPages } from "./cursor.ts";
import { equalityFilter, withoutTableKeys } from "./items.ts";
import { conditional, updateExisting } from "./writes.ts";

type Kind = "PERMISSION" | "REQUEST";

/**
 * Access requests and permissions in their own table, keyed by id, with four indexes: by
 * consumer system and dataset (what the use-time check reads), by consumer agency, by provider
 * agency, and all of one kind (operator and supervisor), each in creation order.
 */
export class DynamoPermissionStore implements PermissionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  createRequest(request: AccessRequest): Promise<void> {
    return this.put(item("REQUEST", request), "attribute_not_exists(pk)");
  }

  getRequest(id: string): Promise<AccessRequest | undefined> {
    return this.get<AccessRequest>(`REQUEST#${id}`);
  }

  async decideRequest(decided: AccessRequest): Promise<boolean> {
    return conditional(
      this.put(item("REQUEST", decided), "#status = :pending", { "#status": "status" }, { ":pending": "pending" }),
    );
  }

  listRequests(scope: PermissionScope, filter: PermissionListFilter, page: { limit: number; cursor?: string }) {
    return this.list<AccessRequest>("REQUEST", scope, filter, page);
  }

  createPermission(permission: Permission): Promise<void> {
    return this.put(item("PERMISSION", permission), "attribute_not_exists(pk)");
  }

  getPermission(id: string): Promise<Permission | undefined> {
    return this.get<Permission>(`PERMISSION#${id}`);
  }

  async revokePermission(id: string, by: string, reason: string, at: string): Promise<Permission | undefined> {
    return updateExisting<Permission>(this.client, {
      TableName: this.tableName,
      Key: marshall({ pk: `PERMISSION#${id}` }),
      // A second revocation keeps the first one's record.
      UpdateExpression:
        "SET #status = :revoked, revokedAt = if_not_exists(revokedAt, :at), revokedBy = if_not_exists(revokedBy, :by), revokeReason = if_not_exists(revokeReason, :reason)",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: marshall({ ":revoked": "revoked", ":at": at, ":by": by, ":reason": reason }),
    });
  }

  listPermissions(scope: PermissionScope, filter: PermissionListFilter, page: { limit: number; cursor?: string }) {
    return this.list<Permission>("PERMISSION", scope, filter, page);
  }

  async permissionsOf(consumerSystem: string, datasetId: string): Promise<Permission[]> {
    const items: Permission[] = [];
    for await (const page of queryPages(this.client, {
      TableName: this.tableName,
      IndexName: "byConsumer",
      KeyConditionExpression: "gsi1pk = :consumer AND begins_with(gsi1sk, :dataset)",
      ExpressionAttributeValues: marshall({
        ":consumer": `CONSUMER#${consumerSystem}`,
        ":dataset": `${datasetId}#PERMISSION#`,
      }),
    })) {
      items.push(...page.map((entry) => record<Permission>(entry)));
    }
    return items;
  }

  private async get<T>(pk: string): Promise<T | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: marshall({ pk }), ConsistentRead: true }),
    );
    return Item ? record<T>(unmarshall(Item)) : undefined;
  }

  private async put(
    entry: Record<string, unknown>,
    condition: string,
    names?: Record<string, string>,
    values?: Record<string, unknown>,
  ): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(entry, { removeUndefinedValues: true }),
        ConditionExpression: condition,
        ...(names ? { ExpressionAttributeNames: names } : {}),
        ...(values ? { ExpressionAttributeValues: marshall(values) } : {}),
      }),
    );
  }

  private async list<T>(
    kind: Kind,
    scope: PermissionScope,
    filter: PermissionListFilter,
    page: { limit: number; cursor?: string },
  ) {
    const { index, attribute, partition } = indexFor(kind, scope);
    const values: Record<string, unknown> = { ":partition": partition };
    const filterExpression = equalityFilter({ ...filter }, values);
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: `${attribute} = :partition`,
        ...filterExpression,
        ExpressionAttributeValues: marshall(values),
        ScanIndexForward: false,
      },
      page,
      (entry) => record<T>(entry),
    );
  }
}

/** The index, its partition attribute and value that list one kind of record for a scope. */
function indexFor(kind: Kind, scope: PermissionScope): { index: string; attribute: string; partition: string } {
  switch (scope.kind) {
    case "all":
      return { index: "all", attribute: "gsi4pk", partition: kind };
    case "consumer-agency":
      return { index: "byConsumerAgency", attribute: "gsi2pk", partition: `${kind}#CONSUMER_AGENCY#${scope.agency}` };
    case "provider-agency":
      return { index: "byProviderAgency", attribute: "gsi3pk", partition: `${kind}#PROVIDER_AGENCY#${scope.agency}` };
  }
}

function item(kind: Kind, value: AccessRequest | Permission): Record<string, unknown> {
  const order = `${value.createdAt}#${value.id}`;
  return {
    ...value,
    pk: `${kind}#${value.id}`,
    gsi1pk: `CONSUMER#${value.consumerSystem}`,
    gsi1sk: `${value.datasetId}#${kind}#${value.id}`,
    gsi2pk: `${kind}#CONSUMER_AGENCY#${value.consumerAgency}`,
    gsi2sk: order,
    gsi3pk: `${kind}#PROVIDER_AGENCY#${value.providerAgency}`,
    gsi3sk: order,
    gsi4pk: kind,
    gsi4sk: order,
  };
}

function record<T>(entry: Record<string, unknown>): T {
  return withoutTableKeys<T>(entry);
}

/**
 * A consumer system's permissions for a dataset, read at most once per `ttlMs` per execution
 * environment (0: on every exchange). Validity windows are still checked at every use.
 */
export function cachedPermissions(
  store: Pick<DynamoPermissionStore, "permissionsOf">,
  ttlMs: number,
): (system: string, dataset: string) => Promise<Permission[]> {
  if (ttlMs <= 0) return (system, dataset) => store.permissionsOf(system, dataset);
  // Ids never hold a NUL: the pair is one cache key.
  const read = cached(
    (pair: string) => {
      const [system = "", dataset = ""] = pair.split("\u0000");
      return store.permissionsOf(system, dataset);
    },
    { ttlMs, maxEntries: 5_000 },
  );
  return async (system, dataset) => (await read(`${system}\u0000${dataset}`)) ?? [];
}
