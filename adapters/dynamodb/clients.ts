import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LeanDynamoDBClient } from "../aws/lean-dynamodb.ts";

let client: DynamoDBClient | undefined;

/**
 * The process-wide DynamoDB client, created on first use and reused by warm invocations.
 * Endpoint, region and credentials come from the environment (AWS, LocalStack or the local runtime).
 * The request path's item reads and writes skip the SDK's per-call machinery (adapters/aws/).
 */
export function dynamoDbClient(): DynamoDBClient {
  client ??= new LeanDynamoDBClient({});
  return client;
}
