import { type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { HealthProbe } from "../../domain/health.ts";

/**
 * Checks that a table answers reads, with the least privilege a read needs: one strongly
 * consistent GetItem of a key that never holds data.
 */
export function tableProbe(name: string, client: DynamoDBClient, tableName: string): HealthProbe {
  return {
    name,
    async check() {
      await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { pk: { S: "#health" }, sk: { S: "#health" } },
          ProjectionExpression: "pk",
        }),
      );
    },
  };
}
