import { describe, expect, it } from "vitest";
import { newFieldInput } from "../../../domain/dictionary/model.ts";
import { queryInput } from "../../../domain/exchange/model.ts";
import { isStoredNumber, unstoredNumbers } from "../../../domain/identifiers.ts";
import { ValidationError } from "../../../domain/problem.ts";
import { parseInput } from "../../../domain/validation.ts";

describe("numbers the stores keep", () => {
  it("are 0 and magnitudes from 1e-130 to 2^53 - 1", () => {
    expect([0, -0, 1, -42.5, 1e-130, Number.MAX_SAFE_INTEGER].every(isStoredNumber)).toBe(true);
    expect([1e20, -1e20, 1e-200, Number.MAX_SAFE_INTEGER + 2].some(isStoredNumber)).toBe(false);
  });

  it("are found by path anywhere in a record", () => {
    expect(
      unstoredNumbers({ a: 1, b: [2, { c: 1e300 }], d: { e: -1e-300 } })
        .map((found) => found.path)
        .sort(),
    ).toEqual(["b/1/c", "d/e"]);
  });

  it("bound a query's filter values and a field's bounds, which answered 500 when the store could not take them", () => {
    const refused = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as ValidationError).invalidParams.map((param) => param.name);
      }
      return [];
    };

    expect(refused(() => parseInput(queryInput, { filters: { province: 1e20 } }, "query"))).toEqual([
      "filters/province",
    ]);
    expect(
      refused(() =>
        parseInput(newFieldInput, { code: "amount", name: "Số tiền", type: "number", maximum: 1e300 }, "field"),
      ),
    ).toContain("maximum");
    expect(() => parseInput(queryInput, { filters: { province: 79 } }, "query")).not.toThrow(ValidationError);
  });
});
