import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { queryInput, recordQuery } from "../../../domain/exchange/model.ts";
import { ValidationError } from "../../../domain/problem.ts";
import { parseInput, parseJsonBody } from "../../../domain/validation.ts";

const refusal = (run: () => unknown): ValidationError => {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error("not refused");
};

describe("parseInput, given members named __proto__", () => {
  it("refuses a filter of that name, naming it beside every other invalid field, where zod would drop it", () => {
    const body = parseJsonBody('{"filters":{"__proto__":"79","_x":"1"},"limit":0}');

    expect(refusal(() => parseInput(queryInput, body, "query")).invalidParams).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "filters/_x" }),
        expect.objectContaining({ name: "limit" }),
        { name: "filters/__proto__", reason: "is not an accepted name" },
      ]),
    );
  });

  it("refuses a record field of that name at any depth", () => {
    const schema = z.object({ operations: z.array(z.object({ record: z.record(z.string(), z.unknown()) })) });
    const body = parseJsonBody('{"operations":[{"record":{"a":{"b":{"__proto__":{}}}}}]}');

    expect(refusal(() => parseInput(schema, body, "batch")).invalidParams).toEqual([
      { name: "operations/0/record/a/b/__proto__", reason: "is not an accepted name" },
    ]);
  });

  it("treats one at the top level as any unknown member: ignored, as query parameters are", () => {
    expect(parseInput(recordQuery, JSON.parse('{"__proto__":"1","fields":"a"}'), "query")).toEqual({ fields: "a" });
  });

  it("walks deep nesting without overflowing the stack", () => {
    const depth = 200_000;
    // Parsed as it is: request bodies stop at 64 levels (parseJsonBody), but parseInput takes any value.
    const body = JSON.parse(`{"filters":${"[".repeat(depth)}${"]".repeat(depth)}}`);

    expect(refusal(() => parseInput(queryInput, body, "query")).invalidParams).toEqual([
      expect.objectContaining({ name: "filters" }),
    ]);
  });
});
