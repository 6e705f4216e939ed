import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { AgentConfigRecord, AgentNodeState, AgentNodeStore, Heartbeat } from "../../domain/agent/nodes.ts";
import type { Page } from "../../domain/registry/model.ts";
import { queryPage } from "./cursor.ts";
import { readItem, withoutTableKeys } from "./items.ts";
import { conditional } from "./writes.ts";

/** The `gsi2` partition every node is listed in, by system id. */
const NODES_PARTITION = "AGENT_NODES";

/**
 * Agent Nodes in the registry table, apart from the systems' own items (so authenticating a
 * request never reads them): under `AGENT#<systemId>`, the configuration at `CONFIG` (its latest
 * revision) and the node at `NODE` (its current revision and last heartbeat), listed through
 * `gsi1` by agency and `gsi2` all together, by system id. Single-item conditional writes only
 * (dynalite has no transactions): a revision is written only over the one it follows, so two
 * concurrent changes never lose one.
 */
export class DynamoAgentNodeStore implements AgentNodeStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  getConfig(systemId: string): Promise<AgentConfigRecord | undefined> {
    return readItem<AgentConfigRecord>(this.client, this.tableName, { pk: nodeKey(systemId), sk: "CONFIG" });
  }

  async putConfig(record: AgentConfigRecord, node: { agencyCode: string; name: string }): Promise<boolean> {
    const written = await conditional(
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: marshall(
            { pk: nodeKey(record.systemId), sk: "CONFIG", kind: "agent-config", ...record },
            { removeUndefinedValues: true },
          ),
          // Revision n is written only over revision n - 1 (or nothing, for the first).
          ...(record.revision === 1
            ? { ConditionExpression: "attribute_not_exists(pk)" }
            : {
                ConditionExpression: "revision = :previous",
                ExpressionAttributeValues: marshall({ ":previous": record.revision - 1 }),
              }),
        }),
      ),
    );
    if (!written) return false;
    // The node's current revision only ever moves forward, whichever of two changes lands here last.
    await conditional(
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall({ pk: nodeKey(record.systemId), sk: "NODE" }),
          UpdateExpression: `SET currentConfigRevision = :revision, ${LISTED}`,
          ConditionExpression: "attribute_not_exists(currentConfigRevision) OR currentConfigRevision < :revision",
          ExpressionAttributeNames: { "#name": "name" },
          ExpressionAttributeValues: marshall({ ":revision": record.revision, ...listedValues(record.systemId, node) }),
        }),
      ),
    );
    return true;
  }

  async recordHeartbeat(heartbeat: Heartbeat): Promise<number> {
    const { systemId, agencyCode, name, detail, ...state } = heartbeat;
    const key = { pk: nodeKey(systemId), sk: "NODE" };
    let attributes: Record<string, unknown> | undefined;
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(key),
          UpdateExpression:
            "SET version = :version, configRevision = :configRevision, health = :health, startedAt = :startedAt, " +
            `lastSeenAt = :lastSeenAt, ${LISTED}${detail === undefined ? " REMOVE detail" : ", detail = :detail"}`,
          // A heartbeat delayed behind a later one does not overwrite it.
          ConditionExpression: "attribute_not_exists(lastSeenAt) OR lastSeenAt <= :lastSeenAt",
          ExpressionAttributeNames: { "#name": "name" },
          ExpressionAttributeValues: marshall(
            {
              ":version": state.version,
              ":configRevision": state.configRevision,
              ":health": state.health,
              ":startedAt": state.startedAt,
              ":lastSeenAt": state.lastSeenAt,
              ...(detail === undefined ? {} : { ":detail": detail }),
              ...listedValues(systemId, { agencyCode, name }),
            },
            { removeUndefinedValues: true },
          ),
          ReturnValues: "ALL_NEW",
        }),
      );
      attributes = Attributes ? unmarshall(Attributes) : undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    if (!attributes) {
      const { Item } = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: marshall(key), ConsistentRead: true }),
      );
      attributes = Item ? unmarshall(Item) : undefined;
    }
    return Number(attributes?.currentConfigRevision ?? 0);
  }

  listNodes(filter: { agency?: string }, page: { limit: number; cursor?: string }): Promise<Page<AgentNodeState>> {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: filter.agency ? "gsi1" : "gsi2",
        KeyConditionExpression: filter.agency ? "gsi1pk = :nodes" : "gsi2pk = :nodes",
        ExpressionAttributeValues: marshall({
          ":nodes": filter.agency ? agencyPartition(filter.agency) : NODES_PARTITION,
        }),
      },
      page,
      (item) => withoutTableKeys<AgentNodeState>(item),
    );
  }
}

/** What makes a node listable: its system, agency and name, and its place in both indexes. */
const LISTED =
  "systemId = :systemId, agencyCode = :agencyCode, #name = :name, kind = :kind, " +
  "gsi1pk = :byAgency, gsi1sk = :systemId, gsi2pk = :all, gsi2sk = :systemId";

function listedValues(systemId: string, node: { agencyCode: string; name: string }): Record<string, string> {
  return {
    ":systemId": systemId,
    ":agencyCode": node.agencyCode,
    ":name": node.name,
    ":kind": "agent-node",
    ":byAgency": agencyPartition(node.agencyCode),
    ":all": NODES_PARTITION,
  };
}

function nodeKey(systemId: string): string {
  return `AGENT#${systemId}`;
}

function agencyPartition(agency: string): string {
  return `AGENCY#${agency}#AGENT_NODES`;
}
