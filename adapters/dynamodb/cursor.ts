import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { ValidationError } from "../../domain/problem.ts";

/** Longest cursor a listing takes (the route schemas say the same). */
export const MAX_CURSOR_LENGTH = 2000;
/** A key attribute value DynamoDB takes as a sort key (1,024 bytes); partition keys are checked by equality. */
const MAX_KEY_VALUE_BYTES = 1024;

/** An opaque pagination cursor for a DynamoDB LastEvaluatedKey. */
export function encodeCursor(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/** A cursor this API never returned: a 400 naming `cursor`, never a 500. */
export function refuseCursor(reason: string, cause?: unknown): never {
  throw new ValidationError(
    "the cursor is not one this API returned",
    [{ name: "cursor", reason }],
    cause === undefined ? undefined : { cause },
  );
}

/** The JSON a cursor carries: bounded base64url, or refused as malformed. */
export function parseCursor(cursor: string): unknown {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) refuseCursor("malformed");
  try {
    return JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch (error) {
    return refuseCursor("malformed", error);
  }
}

/**
 * The start key a cursor names, checked against the query it continues before DynamoDB sees it:
 * exactly the table's key attributes (`pk`, `sk`) and the index's (`gsiNpk`, `gsiNsk`) when the
 * query reads one, each a string of bounded length, and the partition the query reads. Anything
 * else is a cursor this API never returned: a 400 naming `cursor`, never a 500, and never a
 * page of another partition (another tenant's listing).
 */
export function decodeCursor(cursor: string, input: QueryCommandInput): Record<string, AttributeValue> {
  const parsed = parseCursor(cursor);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return refuseCursor("malformed");
  const key = parsed as Record<string, unknown>;
  const partition = partitionOf(input);
  const expected = new Set(["pk", "sk"]);
  if (input.IndexName) {
    if (!partition || !/^gsi\d+pk$/.test(partition.attribute)) return refuseCursor("does not fit this listing");
    expected.add(partition.attribute).add(partition.attribute.replace(/pk$/, "sk"));
  }
  const names = Object.keys(key);
  if (names.length !== expected.size || !names.every((name) => expected.has(name)))
    refuseCursor("does not fit this listing");
  const start: Record<string, AttributeValue> = {};
  for (const name of names) {
    const value = key[name] as Record<string, unknown> | null;
    const text = value !== null && typeof value === "object" && !Array.isArray(value) ? value.S : undefined;
    if (
      typeof text !== "string" ||
      Object.keys(value as object).length !== 1 ||
      text.length === 0 ||
      Buffer.byteLength(text) > MAX_KEY_VALUE_BYTES
    ) {
      refuseCursor("does not fit this listing");
    }
    start[name] = { S: text as string };
  }
  if (partition && partition.value !== undefined && start[partition.attribute]?.S !== partition.value) {
    refuseCursor("belongs to another listing");
  }
  return start;
}

/** The partition a query reads: the attribute of its key condition's first equality, and the value it names. */
function partitionOf(input: QueryCommandInput): { attribute: string; value?: string } | undefined {
  const match = /^\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)/.exec(input.KeyConditionExpression ?? "");
  if (!match) return undefined;
  const [, name = "", placeholder = ""] = match;
  const attribute = name.startsWith("#") ? input.ExpressionAttributeNames?.[name] : name;
  if (!attribute) return undefined;
  const value = input.ExpressionAttributeValues?.[placeholder]?.S;
  return { attribute, ...(value !== undefined ? { value } : {}) };
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
  const start = page.cursor ? decodeCursor(page.cursor, input) : undefined;
  let result: QueryCommandOutput;
  try {
    result = await client.send(
      new QueryCommand({ ...input, Limit: page.limit, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
  } catch (error) {
    // A start key of the right shape and partition but outside the sort key's condition.
    if (start && (error as Error).name === "ValidationException") {
      throw new ValidationError(
        "the cursor is not one this API returned",
        [{ name: "cursor", reason: "does not fit this listing" }],
        { cause: error },
      );
    }
    throw error;
  }
  const { Items = [], LastEvaluatedKey } = result;
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
