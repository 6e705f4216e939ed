import { describe, expect, it } from "vitest";
import { AwsCallCounter } from "../../../runtime/aws-calls.ts";
import { itemSize, requestUnits, valueSize } from "../../../runtime/request-units.ts";

/** An item of exactly `bytes` bytes: a one-letter name and a string value. */
const itemOf = (bytes: number) => ({ a: { S: "x".repeat(bytes - 1) } });

describe("DynamoDB item size", () => {
  it("adds up names and values as DynamoDB counts them", () => {
    expect(valueSize({ S: "Hà Nội" })).toBe(9);
    expect(valueSize({ N: "236" })).toBe(3);
    expect(valueSize({ N: "-0.0012500" })).toBe(3);
    expect(valueSize({ BOOL: false })).toBe(1);
    expect(valueSize({ NULL: true })).toBe(1);
    expect(valueSize({ B: Buffer.from("abcd").toString("base64") })).toBe(4);
    expect(valueSize({ SS: ["ab", "c"] })).toBe(3);
    // A list: 3 bytes, then each element and one byte for it.
    expect(valueSize({ L: [{ S: "ab" }, { N: "1" }] })).toBe(3 + (1 + 2) + (1 + 2));
    // A map: 3 bytes, then each name, value and one byte.
    expect(valueSize({ M: { k: { S: "v" } } })).toBe(3 + 1 + 1 + 1);
    expect(itemSize({ pk: { S: "CHAIN#6" }, seq: { N: "236" } })).toBe(2 + 7 + 3 + 3);
  });
});

describe("requestUnits", () => {
  it("charges a write one unit per started kilobyte of the item", () => {
    expect(requestUnits("PutItem", { Item: itemOf(1024) }, {})).toEqual({ kind: "write", units: 1 });
    expect(requestUnits("PutItem", { Item: itemOf(1025) }, {})).toEqual({ kind: "write", units: 2 });
    expect(
      requestUnits(
        "UpdateItem",
        { Key: { pk: { S: "k" } }, ExpressionAttributeValues: { ":v": { S: "x".repeat(2000) } } },
        {},
      ),
    ).toEqual({ kind: "write", units: 2 });
    expect(requestUnits("DeleteItem", { Key: { pk: { S: "k" } } }, {})).toEqual({ kind: "write", units: 1 });
  });

  it("rounds each item of a batch write on its own", () => {
    const request = {
      RequestItems: {
        t: [
          { PutRequest: { Item: itemOf(100) } },
          { PutRequest: { Item: itemOf(1500) } },
          { DeleteRequest: { Key: itemOf(10) } },
        ],
      },
    };
    expect(requestUnits("BatchWriteItem", request, {})).toEqual({ kind: "write", units: 1 + 2 + 1 });
  });

  it("charges a read per started 4 KB of what it returns, half when eventually consistent", () => {
    expect(requestUnits("GetItem", { ConsistentRead: true }, { Item: itemOf(4096) })).toEqual({
      kind: "read",
      units: 1,
    });
    expect(requestUnits("GetItem", {}, { Item: itemOf(4097) })).toEqual({ kind: "read", units: 1 });
    expect(requestUnits("GetItem", {}, {})).toEqual({ kind: "read", units: 0.5 });
    // A query sums its items before rounding.
    const items = [itemOf(1000), itemOf(1000), itemOf(1000), itemOf(1000), itemOf(1000)];
    expect(requestUnits("Query", { ConsistentRead: true }, { Items: items })).toEqual({ kind: "read", units: 2 });
    expect(requestUnits("Query", {}, { Items: [] })).toEqual({ kind: "read", units: 0.5 });
  });

  it("is undefined for calls that neither read nor write items", () => {
    expect(requestUnits("DescribeTable", {}, {})).toBeUndefined();
  });
});

describe("AwsCallCounter with a DynamoDB call's bodies", () => {
  it("counts request units from the items, not the bytes on the wire", () => {
    const counter = new AwsCallCounter();
    const call = { method: "POST", url: "/", headers: { "x-amz-target": "DynamoDB_20120810.PutItem" } };
    counter.record(
      call,
      { request: 5000, response: 2 },
      { request: JSON.stringify({ Item: itemOf(900) }), response: "{}" },
    );
    counter.record(call, { request: 5000, response: 2 });

    expect(counter.snapshot()).toEqual({
      runtime: { "dynamodb:PutItem": 2, "dynamodb:WriteRequestUnits": 1 + 5 },
    });
  });
});
