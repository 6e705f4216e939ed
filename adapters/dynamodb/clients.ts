import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

let client: DynamoDBClient | undefined;

/**
 * The process-wide DynamoDB client, created on first use and reused by warm invocations.
 * Endpoint, region and credentials come from the environment (AWS, LocalStack or the local runtime).
 */
export function dynamoDbClient(): DynamoDBClient {
  client ??= new DynamoDBClient({});
  return client;
}
