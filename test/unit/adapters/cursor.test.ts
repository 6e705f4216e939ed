import type { QueryCommandInput } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../../adapters/dynamodb/cursor.ts";
import { ValidationError } from "../../../domain/problem.ts";

const agencies: QueryCommandInput = {
  TableName: "registry",
  IndexName: "gsi1",
  KeyConditionExpression: "gsi1pk = :agencies",
  ExpressionAttributeValues: { ":agencies": { S: "AGENCIES" } },
};
const entries: QueryCommandInput = {
  TableName: "registry",
  KeyConditionExpression: "pk = :pk AND begins_with(sk, :entry)",
  ExpressionAttributeValues: { ":pk": { S: "CODELIST#GENDER" }, ":entry": { S: "ENTRY#" } },
};
const agencyKey = {
  pk: { S: "AGENCY#MPS" },
  sk: { S: "AGENCY" },
  gsi1pk: { S: "AGENCIES" },
  gsi1sk: { S: "MPS" },
};

function craft(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

function refusal(cursor: string, input: QueryCommandInput): unknown {
  try {
    decodeCursor(cursor, input);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("decodeCursor", () => {
  it("gives back the start key a page of the same listing returned", () => {
    expect(decodeCursor(encodeCursor(agencyKey), agencies)).toEqual(agencyKey);
  });

  it.each([
    ["text that is not base64url", "not a cursor!"],
    ["base64url of something other than JSON", Buffer.from("{{{").toString("base64url")],
    ["a JSON array", craft([1, 2])],
    ["JSON null", craft(null)],
    ["another table's key names", craft({ id: { S: "x" } })],
    ["the table's keys without the index's", craft({ pk: { S: "AGENCY#MPS" }, sk: { S: "AGENCY" } })],
    ["a key of another type", craft({ ...agencyKey, sk: { N: "1" } })],
    ["a key value with two types", craft({ ...agencyKey, sk: { S: "A", N: "1" } })],
    ["an empty key value", craft({ ...agencyKey, sk: { S: "" } })],
    ["a key value longer than DynamoDB takes", craft({ ...agencyKey, gsi1sk: { S: "x".repeat(1025) } })],
    ["a key with a prototype member", craft({ ...agencyKey, sk: { __proto__: { S: "x" } } })],
    ["another partition (another listing)", craft({ ...agencyKey, gsi1pk: { S: "SYSTEMS" } })],
    ["a cursor longer than any listing returns", "A".repeat(2001)],
  ])("refuses %s as a 400 naming the cursor", (_what, cursor) => {
    const error = refusal(cursor, agencies);

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).invalidParams.map((param) => param.name)).toEqual(["cursor"]);
  });

  it("refuses a table query's cursor that names index keys", () => {
    const error = refusal(encodeCursor(agencyKey), entries);

    expect(error).toBeInstanceOf(ValidationError);
  });

  it("refuses a cursor for another code list than the one listed", () => {
    const error = refusal(craft({ pk: { S: "CODELIST#NATIONALITY" }, sk: { S: "ENTRY#VN" } }), entries);

    expect((error as ValidationError).invalidParams).toEqual([
      { name: "cursor", reason: "belongs to another listing" },
    ]);
  });
});
