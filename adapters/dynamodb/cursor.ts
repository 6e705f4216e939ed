import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { ValidationError } from "../../domain/problem.ts";

/** An opaque pagination cursor for a DynamoDB LastEvaluatedKey. */
export function encodeCursor(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

export function decodeCursor(cursor: string): Record<string, AttributeValue> {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    return parsed as Record<string, AttributeValue>;
  } catch (error) {
    throw new ValidationError("the cursor is not one this API returned", [{ name: "cursor", reason: "malformed" }], {
      cause: error,
    });
  }
}
