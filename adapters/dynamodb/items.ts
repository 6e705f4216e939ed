import { BatchGetItemCommand, type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";

/** An item without the attributes the table design adds: keys, index keys, the kind marker. */
export function withoutTableKeys<T>(item: Record<string, unknown>): T {
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (key === "pk" || key === "sk" || key === "kind" || /^gsi\d+(pk|sk)$/.test(key)) continue;
    record[key] = value;
  }
  return record as T;
}

/** One item by its key, read consistently, without the table's attributes; undefined when absent. */
export async function readItem<T>(
  client: DynamoDBClient,
  tableName: string,
  key: Readonly<Record<string, string>>,
): Promise<T | undefined> {
  const { Item } = await client.send(
    new GetItemCommand({ TableName: tableName, Key: marshall(key), ConsistentRead: true }),
  );
  return Item ? withoutTableKeys<T>(unmarshall(Item)) : undefined;
}

/**
 * The items of many keys, 100 keys a request, the requests side by side, unmarshalled. What
 * DynamoDB keeps back is asked for again after a growing pause; after eight tries, `refused` is
 * thrown. Keys without an item are simply not in the result.
 */
export async function readItems<T>(
  client: DynamoDBClient,
  tableName: string,
  keys: ReadonlyArray<Readonly<Record<string, string>>>,
  options: { consistent: boolean; refused: string },
): Promise<T[]> {
  const found: T[] = [];
  const groups: Array<ReadonlyArray<Readonly<Record<string, string>>>> = [];
  for (let start = 0; start < keys.length; start += 100) groups.push(keys.slice(start, start + 100));
  await Promise.all(
    groups.map(async (group) => {
      let wanted = group.map((key) => marshall(key));
      for (let attempt = 0; wanted.length > 0; attempt++) {
        if (attempt >= 8) throw new Error(options.refused);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
        const { Responses, UnprocessedKeys } = await client.send(
          new BatchGetItemCommand({
            RequestItems: { [tableName]: { Keys: wanted, ConsistentRead: options.consistent } },
          }),
        );
        for (const item of Responses?.[tableName] ?? []) found.push(unmarshall(item) as T);
        wanted = UnprocessedKeys?.[tableName]?.Keys ?? [];
      }
    }),
  );
  return found;
}

/**
 * A filter expression requiring each defined attribute of `filter` to equal its value, with
 * the names and values it needs; `values` may already hold the key condition's.
 */
export function equalityFilter(
  filter: Readonly<Record<string, unknown>>,
  values: Record<string, unknown>,
): { FilterExpression?: string; ExpressionAttributeNames?: Record<string, string> } {
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  for (const [name, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    conditions.push(`#${name} = :${name}`);
    names[`#${name}`] = name;
    values[`:${name}`] = value;
  }
  return conditions.length > 0 ? { FilterExpression: conditions.join(" AND "), ExpressionAttributeNames: names } : {};
}
