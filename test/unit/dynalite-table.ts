import type { AddressInfo } from "node:net";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";

/** A table on a dynalite server of its own, for unit tests of the stores; `stop` ends both. */
export interface DynaliteTable {
  readonly client: DynamoDBClient;
  readonly table: string;
  readonly stop: () => Promise<void>;
}

/** Shaped like the integrated table: `pk`/`sk`, index `byDataset` on `gsi1pk`/`gsi1sk`. */
export function integratedTable(table = "integrated"): Promise<DynaliteTable> {
  return dynaliteTable(table, "byDataset");
}

/** Shaped like the registry table: `pk`/`sk`, index `gsi1` on `gsi1pk`/`gsi1sk`. */
export function registryTable(table = "registry"): Promise<DynaliteTable> {
  return dynaliteTable(table, "gsi1");
}

async function dynaliteTable(
  table: string,
  indexName: string,
): Promise<{
  client: DynamoDBClient;
  table: string;
  stop: () => Promise<void>;
}> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: "ap-southeast-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: ["pk", "sk", "gsi1pk", "gsi1sk"].map((name) => ({
        AttributeName: name,
        AttributeType: "S",
      })),
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: indexName,
          KeySchema: [
            { AttributeName: "gsi1pk", KeyType: "HASH" },
            { AttributeName: "gsi1sk", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    }),
  );
  return {
    client,
    table,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
