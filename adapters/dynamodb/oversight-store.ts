import { type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type {
  Audit,
  OversightStore,
  RankedDatabase,
  RankingHead,
  RankingIndices,
} from "../../domain/oversight/model.ts";
import { ConflictError } from "../../domain/problem.ts";
import { queryPage, queryPages } from "./cursor.ts";
import { readItem, withoutTableKeys } from "./items.ts";
import { putIfRevision, putNew, updateIfState } from "./writes.ts";

/**
 * Audits and rankings in the integrated table, beside the data they examine:
 * - `AUDIT#<auditId>`, listed per dataset through `byDataset` (`AUDITS#<datasetId>`, newest last);
 * - `RANKING#<year>`: a head item, and one item per database (`DB#<datasetId>`), so a ranking of
 *   thousands of databases never meets DynamoDB's item size limit; an agency's self-evaluation
 *   likewise at `RANKING#<year>#SELF#<agency>`;
 * - `RANKING#INDICES`: each published version of the ranking indices (`VERSION#<version>`).
 */
const INDICES_KEY = "RANKING#INDICES";

function rankingKey(year: number, agency?: string): string {
  return agency === undefined ? `RANKING#${year}` : `RANKING#${year}#SELF#${agency}`;
}

export class DynamoOversightStore implements OversightStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  createAudit(audit: Audit): Promise<void> {
    return putNew(
      this.client,
      this.tableName,
      {
        pk: `AUDIT#${audit.auditId}`,
        sk: "AUDIT",
        kind: "audit",
        gsi1pk: `AUDITS#${audit.datasetId}`,
        gsi1sk: `${audit.createdAt}#${audit.auditId}`,
        ...audit,
      },
      `audit ${audit.auditId} exists`,
    );
  }

  getAudit(auditId: string): Promise<Audit | undefined> {
    return readItem<Audit>(this.client, this.tableName, { pk: `AUDIT#${auditId}`, sk: "AUDIT" });
  }

  /** Moves an audit on from `from`; false if it is no longer there (another worker took it). */
  updateAudit(auditId: string, from: Audit["state"], changes: Partial<Audit>): Promise<boolean> {
    return updateIfState(this.client, this.tableName, { pk: `AUDIT#${auditId}`, sk: "AUDIT" }, from, changes);
  }

  /** A dataset's audits, newest first. */
  audits(datasetId: string, page: { limit: number; cursor?: string }) {
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: "byDataset",
        KeyConditionExpression: "gsi1pk = :audits",
        ExpressionAttributeValues: marshall({ ":audits": `AUDITS#${datasetId}` }),
        ScanIndexForward: false,
      },
      page,
      (item) => withoutTableKeys<Audit>(item),
    );
  }

  /**
   * A dataset's newest audit in a state, created before `before` if given, and with exactly the
   * given parameters if given.
   */
  async latestAudit(
    datasetId: string,
    state: Audit["state"],
    options: { before?: string; parameters?: Audit["parameters"] } = {},
  ): Promise<Audit | undefined> {
    const { before, parameters } = options;
    for await (const items of queryPages(this.client, {
      TableName: this.tableName,
      IndexName: "byDataset",
      KeyConditionExpression: `gsi1pk = :audits${before ? " AND gsi1sk < :before" : ""}`,
      FilterExpression: `#state = :state${parameters ? " AND #p.#stale = :stale AND #p.#window = :window" : ""}`,
      ExpressionAttributeNames: {
        "#state": "state",
        ...(parameters ? { "#p": "parameters", "#stale": "staleAfter", "#window": "accessWindow" } : {}),
      },
      ExpressionAttributeValues: marshall({
        ":audits": `AUDITS#${datasetId}`,
        ":state": state,
        ...(before ? { ":before": before } : {}),
        ...(parameters ? { ":stale": parameters.staleAfter, ":window": parameters.accessWindow } : {}),
      }),
      ScanIndexForward: false,
      Limit: 20,
    })) {
      const [found] = items;
      if (found) return withoutTableKeys<Audit>(found);
    }
    return undefined;
  }

  /** A dataset's audit created at or after `since` and not finished yet (queued or running), if any. */
  async unfinishedAudit(datasetId: string, since: string): Promise<Audit | undefined> {
    for await (const items of queryPages(this.client, {
      TableName: this.tableName,
      IndexName: "byDataset",
      KeyConditionExpression: "gsi1pk = :audits AND gsi1sk >= :since",
      FilterExpression: "#state IN (:queued, :running)",
      ExpressionAttributeNames: { "#state": "state" },
      ExpressionAttributeValues: marshall({
        ":audits": `AUDITS#${datasetId}`,
        ":since": since,
        ":queued": "queued",
        ":running": "running",
      }),
      ScanIndexForward: false,
    })) {
      const [found] = items;
      if (found) return withoutTableKeys<Audit>(found);
    }
    return undefined;
  }

  rankingHead(year: number, agency?: string): Promise<RankingHead | undefined> {
    return readItem<RankingHead>(this.client, this.tableName, { pk: rankingKey(year, agency), sk: "HEAD" });
  }

  /** Writes a ranking's head if its stored revision is still `expected` (0: none yet); false otherwise. */
  async putRankingHead(head: RankingHead, expected: number): Promise<boolean> {
    const item = { pk: rankingKey(head.year, head.agency), sk: "HEAD", kind: "ranking", ...head };
    if (expected === 0) {
      try {
        await putNew(this.client, this.tableName, item, "taken");
        return true;
      } catch (error) {
        if (error instanceof ConflictError) return false;
        throw error;
      }
    }
    return putIfRevision(this.client, this.tableName, item, expected);
  }

  async putRankedDatabases(year: number, databases: readonly RankedDatabase[], agency?: string): Promise<void> {
    for (let start = 0; start < databases.length; start += 25) {
      await Promise.all(
        databases.slice(start, start + 25).map((database) =>
          this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: marshall(
                { pk: rankingKey(year, agency), sk: `DB#${database.datasetId}`, kind: "ranked-database", ...database },
                { removeUndefinedValues: true },
              ),
            }),
          ),
        ),
      );
    }
  }

  /** Every ranked database of a year's ranking (or an agency's self-evaluation), in dataset order. */
  async rankedDatabases(year: number, agency?: string): Promise<RankedDatabase[]> {
    const databases: RankedDatabase[] = [];
    for await (const items of queryPages(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: "pk = :ranking AND begins_with(sk, :db)",
      ExpressionAttributeValues: marshall({ ":ranking": rankingKey(year, agency), ":db": "DB#" }),
    })) {
      databases.push(...items.map((item) => withoutTableKeys<RankedDatabase>(item)));
    }
    return databases;
  }

  /** A published version of the ranking indices, created once: false when the version exists. */
  async putIndices(indices: RankingIndices): Promise<boolean> {
    try {
      await putNew(
        this.client,
        this.tableName,
        { pk: INDICES_KEY, sk: `VERSION#${indices.version}`, kind: "ranking-indices", ...indices },
        "taken",
      );
      return true;
    } catch (error) {
      if (error instanceof ConflictError) return false;
      throw error;
    }
  }

  async storedIndices(): Promise<RankingIndices[]> {
    const found: RankingIndices[] = [];
    for await (const items of queryPages(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: "pk = :indices",
      ExpressionAttributeValues: marshall({ ":indices": INDICES_KEY }),
      ConsistentRead: true,
    })) {
      found.push(...items.map((item) => withoutTableKeys<RankingIndices>(item)));
    }
    return found;
  }
}
