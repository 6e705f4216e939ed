import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { ViolationCase, ViolationStatus, ViolationStore } from "../../domain/oversight/violations.ts";
import { queryPage } from "./cursor.ts";
import { readItem, withoutTableKeys } from "./items.ts";
import { putIfRevision, putNew } from "./writes.ts";

/**
 * Violation cases in the integrated table, beside audits and rankings: `VIOLATION#<caseId>`, one
 * item holding the case and its trail, replaced only on the revision read. Listed through
 * `byDataset` under one partition (`VIOLATIONS#ALL`), sorted by agency then opening time: cases
 * are few (a finding followed up by hand), and one partition serves the supervisor's listing of
 * every agency and an agency's own alike.
 */
const ALL = "VIOLATIONS#ALL";

function itemOf(violation: ViolationCase): Record<string, unknown> {
  return {
    pk: `VIOLATION#${violation.caseId}`,
    sk: "CASE",
    kind: "violation",
    gsi1pk: ALL,
    gsi1sk: `${violation.agency}#${violation.openedAt}#${violation.caseId}`,
    ...violation,
  };
}

export class DynamoViolationStore implements ViolationStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  createViolation(violation: ViolationCase): Promise<void> {
    return putNew(this.client, this.tableName, itemOf(violation), `violation case ${violation.caseId} exists`);
  }

  getViolation(caseId: string): Promise<ViolationCase | undefined> {
    return readItem<ViolationCase>(this.client, this.tableName, { pk: `VIOLATION#${caseId}`, sk: "CASE" });
  }

  putViolation(violation: ViolationCase, expected: number): Promise<boolean> {
    return putIfRevision(this.client, this.tableName, itemOf(violation), expected);
  }

  /** A page of cases, newest first within an agency; a page may hold fewer than `limit` when filtered. */
  violations(
    filter: { agency?: string; status?: ViolationStatus; overdue?: { on: string; is: boolean } },
    page: { limit: number; cursor?: string },
  ): Promise<{ items: ViolationCase[]; nextCursor?: string }> {
    const conditions: string[] = [];
    const values: Record<string, string> = { ":all": ALL };
    if (filter.agency) values[":agency"] = `${filter.agency}#`;
    if (filter.status) {
      conditions.push("#status = :status");
      values[":status"] = filter.status;
    }
    if (filter.overdue) {
      conditions.push(
        filter.overdue.is ? "#status <> :resolved AND dueDate < :today" : "(#status = :resolved OR dueDate >= :today)",
      );
      values[":resolved"] = "resolved";
      values[":today"] = filter.overdue.on;
    }
    return queryPage(
      this.client,
      {
        TableName: this.tableName,
        IndexName: "byDataset",
        KeyConditionExpression: `gsi1pk = :all${filter.agency ? " AND begins_with(gsi1sk, :agency)" : ""}`,
        ...(conditions.length > 0
          ? { FilterExpression: conditions.join(" AND "), ExpressionAttributeNames: { "#status": "status" } }
          : {}),
        ExpressionAttributeValues: marshall(values),
        ScanIndexForward: false,
      },
      page,
      (item) => withoutTableKeys<ViolationCase>(item),
    );
  }
}
