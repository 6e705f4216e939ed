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
  return dynaliteTable(table, [["byDataset", "gsi1"]]);
}

/** Shaped like the registry table: `pk`/`sk`, indexes `gsi1` and `gsi2` on `gsiNpk`/`gsiNsk`. */
export function registryTable(table = "registry"): Promise<DynaliteTable> {
  return dynaliteTable(table, [
    ["gsi1", "gsi1"],
    ["gsi2", "gsi2"],
  ]);
}

/** Shaped like the exchange-log table: `pk`/`sk`, indexes `byConsumer`, `byProvider`, `byTime` on `gsi1`-`gsi3`. */
export function exchangeLogTable(table = "exchange-log"): Promise<DynaliteTable> {
  return dynaliteTable(table, [
    ["byConsumer", "gsi1"],
    ["byProvider", "gsi2"],
    ["byTime", "gsi3"],
  ]);
}

/** A table keyed `pk`/`sk`, each index `[name, prefix]` keyed `<prefix>pk`/`<prefix>sk`: CreateTable's input. */
export function keyedTableInput(table: string, indexes: ReadonlyArray<readonly [string, string]> = []) {
  return {
    TableName: table,
    BillingMode: "PAY_PER_REQUEST" as const,
    AttributeDefinitions: ["pk", "sk", ...indexes.flatMap(([, prefix]) => [`${prefix}pk`, `${prefix}sk`])].map(
      (name) => ({ AttributeName: name, AttributeType: "S" as const }),
    ),
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" as const },
      { AttributeName: "sk", KeyType: "RANGE" as const },
    ],
    ...(indexes.length > 0
      ? {
          GlobalSecondaryIndexes: indexes.map(([name, prefix]) => ({
            IndexName: name,
            KeySchema: [
              { AttributeName: `${prefix}pk`, KeyType: "HASH" as const },
              { AttributeName: `${prefix}sk`, KeyType: "RANGE" as const },
            ],
            Projection: { ProjectionType: "ALL" as const },
          })),
        }
      : {}),
  };
}

/** A table keyed `pk`/`sk`, each index `[name, prefix]` keyed `<prefix>pk`/`<prefix>sk`. */
async function dynaliteTable(table: string, indexes: ReadonlyArray<readonly [string, string]>): Promise<DynaliteTable> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: "ap-southeast-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  await client.send(new CreateTableCommand(keyedTableInput(table, indexes)));
  return {
    client,
    table,
    stop: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
