import { type DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { ReplayGuard } from "../../domain/identity/authenticate.ts";
import { conditional } from "./writes.ts";

/**
 * Remembers each token id durably, across function instances: a conditional put that fails
 * when the id is already held by an unexpired entry. The table's TTL only cleans up; an entry
 * past `expiresAt` no longer blocks, whether or not TTL has removed it yet.
 */
export function dynamoReplayGuard(
  client: DynamoDBClient,
  tableName: string,
  now: () => number = Date.now,
): ReplayGuard {
  return async (issuer, jti, expiresAt) => {
    return conditional(
      client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: `${issuer}#${jti}` }, expiresAt: { N: String(expiresAt) } },
          ConditionExpression: "attribute_not_exists(pk) OR expiresAt < :now",
          ExpressionAttributeValues: { ":now": { N: String(Math.floor(now() / 1000)) } },
        }),
      ),
    );
  };
}
