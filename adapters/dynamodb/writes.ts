import { ConditionalCheckFailedException, type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { ConflictError } from "../../domain/identity/errors.ts";

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
  try {
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: marshall(item, { removeUndefinedValues: true }),
        ConditionExpression: "revision = :expected",
        ExpressionAttributeValues: marshall({ ":expected": expectedRevision }),
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}
