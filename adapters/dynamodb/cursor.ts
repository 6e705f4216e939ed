import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { ValidationError } from "../../domain/problem.ts";

/** An opaque pagination cursor for a DynamoDB LastEvaluatedKey. */
export function encodeCursor(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(cursor: string): Record<string, AttributeValue> {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as Record<string, AttributeValue>;
  } catch (error) {
    throw new ValidationError("the cursor is not one this API returned", [{ name: "cursor", reason: "malformed" }], {
      cause: error,
    });
  }
}

/**
 * Runs one page of a query from the caller's cursor and returns its items, mapped, with the
 * cursor of the next page when there is one.
 */
export async function queryPage<T>(
  client: DynamoDBClient,
  input: QueryCommandInput,
  page: { limit: number; cursor?: string },
  map: (item: Record<string, unknown>) => T,
): Promise<{ items: T[]; nextCursor?: string }> {
  const { Items = [], LastEvaluatedKey } = await client.send(
    new QueryCommand({
      ...input,
      Limit: page.limit,
      ...(page.cursor ? { ExclusiveStartKey: decodeCursor(page.cursor) } : {}),
    }),
  );
  return {
    items: Items.map((item) => map(unmarshall(item))),
    ...(LastEvaluatedKey ? { nextCursor: encodeCursor(LastEvaluatedKey) } : {}),
  };
}

/**
 * Every page of a query, in order, its items unmarshalled: for reads that need the whole result
 * (small ones, or ones handled a page at a time).
 */
export async function* queryPages(
  client: DynamoDBClient,
  input: QueryCommandInput,
): AsyncGenerator<Record<string, unknown>[]> {
  let cursor: Record<string, AttributeValue> | undefined;
  do {
    const { Items = [], LastEvaluatedKey } = await client.send(
      new QueryCommand({ ...input, ...(cursor ? { ExclusiveStartKey: cursor } : {}) }),
    );
    yield Items.map((item) => unmarshall(item));
    cursor = LastEvaluatedKey;
  } while (cursor);
}
