import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { ConflictError } from "../../domain/problem.ts";
import { withoutTableKeys } from "./items.ts";

/**
 * Awaits a conditional write: true when it was made, false when its condition did not hold (a
 * taken key, a state or revision moved on, a lease held by another); any other error is thrown.
 */
export async function conditional(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Writes an item that must not exist yet; a taken key is a 409 saying `conflict`. */
export async function putNew(
  client: DynamoDBClient,
  tableName: string,
  item: Record<string, unknown>,
  conflict: string,
): Promise<void> {
  try {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: marshall(item, { removeUndefinedValues: true }),
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw new ConflictError(conflict, { cause: error });
    throw error;
  }
}

/** Replaces an item if its stored `revision` is still `expectedRevision`; false if someone wrote first. */
export async function putIfRevision(
  client: DynamoDBClient,
  tableName: string,
  item: Record<string, unknown>,
  expectedRevision: number,
): Promise<boolean> {
  return conditional(
    client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: marshall(item, { removeUndefinedValues: true }),
        ConditionExpression: "revision = :expected",
        ExpressionAttributeValues: marshall({ ":expected": expectedRevision }),
      }),
    ),
  );
}

/** Sets `changes` on an item if its `state` is still `from`; false if it moved on (or is absent). */
export async function updateIfState(
  client: DynamoDBClient,
  tableName: string,
  key: Record<string, string>,
  from: string,
  changes: Readonly<Record<string, unknown>>,
): Promise<boolean> {
  const names: Record<string, string> = { "#state": "state" };
  const values: Record<string, unknown> = { ":from": from };
  const sets = Object.entries(changes)
    .filter(([, value]) => value !== undefined)
    .map(([name, value], index) => {
      names[`#m${index}`] = name;
      values[`:m${index}`] = value;
      return `#m${index} = :m${index}`;
    });
  return conditional(
    client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: marshall(key),
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: "#state = :from",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
      }),
    ),
  );
}

/**
 * Applies a conditional update and returns the item as it is now, without its table keys; or
 * undefined when the condition does not hold (an absent item, or one that moved on).
 */
export async function updateExisting<T>(
  client: DynamoDBClient,
  input: Omit<UpdateItemCommandInput, "ReturnValues">,
): Promise<T | undefined> {
  try {
    const { Attributes } = await client.send(new UpdateItemCommand({ ...input, ReturnValues: "ALL_NEW" }));
    return Attributes ? withoutTableKeys<T>(unmarshall(Attributes)) : undefined;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}
