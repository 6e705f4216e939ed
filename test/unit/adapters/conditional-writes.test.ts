import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { conditional } from "../../../adapters/dynamodb/writes.ts";

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} });

describe("a conditional write", () => {
  it("is true when it was made", async () => {
    expect(await conditional(Promise.resolve({}))).toBe(true);
  });

  it("is false when its condition did not hold", async () => {
    expect(await conditional(Promise.reject(conditionFailed()))).toBe(false);
  });

  it("throws any other error", async () => {
    const throttled = new Error("throttled");

    await expect(conditional(Promise.reject(throttled))).rejects.toBe(throttled);
  });
});
