// DynamoDB request units of one call, computed as DynamoDB does from the items it writes or
// reads (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
// item size is the sum of attribute names and values in bytes; a write takes one unit per 1 KB
// of the item, a read one unit per 4 KB (half for an eventually consistent read), rounded up.

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

const utf8 = (text: string) => Buffer.byteLength(text, "utf8");

/** A number's size: about one byte per two significant digits, plus one. */
function numberSize(text: string): number {
  const digits = text.replace(/^-/, "").replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function binarySize(value: unknown): number {
  return typeof value === "string" ? Buffer.from(value, "base64").length : 0;
}

/** Size in bytes of one attribute value (its name not included). */
export function valueSize(value: AttributeValue): number {
  if (typeof value.S === "string") return utf8(value.S);
  if (typeof value.N === "string") return numberSize(value.N);
  if (value.B !== undefined) return binarySize(value.B);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (Array.isArray(value.SS)) return value.SS.reduce((sum: number, text: string) => sum + utf8(text), 0);
  if (Array.isArray(value.NS)) return value.NS.reduce((sum: number, text: string) => sum + numberSize(text), 0);
  if (Array.isArray(value.BS)) return value.BS.reduce((sum: number, data: unknown) => sum + binarySize(data), 0);
  if (Array.isArray(value.L))
    return 3 + (value.L as AttributeValue[]).reduce((sum, item) => sum + 1 + valueSize(item), 0);
  if (value.M && typeof value.M === "object") return 3 + itemSize(value.M as Item) + Object.keys(value.M).length;
  return 0;
}

/** Size in bytes of an item: every attribute's name and value. */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const readUnits = (bytes: number, consistent: boolean) => Math.max(1, Math.ceil(bytes / 4096)) / (consistent ? 1 : 2);

/**
 * Request units of one DynamoDB call from its request and response bodies (JSON), or undefined
 * for anything but a read or write. What the call cannot show is left out: writes to global
 * secondary indexes, and for UpdateItem the attributes it leaves as they are (estimated from
 * the key and the values it sets).
 */
export function requestUnits(
  operation: string,
  request: Record<string, unknown>,
  response: Record<string, unknown>,
): { readonly kind: "read" | "write"; readonly units: number } | undefined {
  const consistent = request.ConsistentRead === true;
  switch (operation) {
    case "PutItem":
      return { kind: "write", units: writeUnits(itemSize(request.Item as Item)) };
    case "UpdateItem":
      return {
        kind: "write",
        units: writeUnits(itemSize(request.Key as Item) + itemSize(request.ExpressionAttributeValues as Item)),
      };
    case "DeleteItem":
      return { kind: "write", units: writeUnits(itemSize(request.Key as Item)) };
    case "BatchWriteItem": {
      let units = 0;
      for (const writes of Object.values((request.RequestItems ?? {}) as Record<string, Item[]>)) {
        for (const write of writes) {
          const put = write.PutRequest as { Item?: Item } | undefined;
          const remove = write.DeleteRequest as { Key?: Item } | undefined;
          units += writeUnits(itemSize(put?.Item ?? remove?.Key));
        }
      }
      return { kind: "write", units: Math.max(1, units) };
    }
    case "GetItem":
      return { kind: "read", units: readUnits(itemSize(response.Item as Item | undefined), consistent) };
    case "Query":
    case "Scan": {
      const bytes = ((response.Items ?? []) as Item[]).reduce((sum, item) => sum + itemSize(item), 0);
      return { kind: "read", units: readUnits(bytes, consistent) };
    }
    case "BatchGetItem": {
      let units = 0;
      const asked = (request.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>;
      for (const [table, items] of Object.entries((response.Responses ?? {}) as Record<string, Item[]>)) {
        for (const item of items) units += readUnits(itemSize(item), asked[table]?.ConsistentRead === true);
      }
      return { kind: "read", units: Math.max(0.5, units) };
    }
    default:
      return undefined;
  }
}
