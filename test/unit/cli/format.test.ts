import { describe, expect, it } from "vitest";
import { cell, errorLine, idOf, tableLines } from "../../../cli/format.ts";

describe("the CLI's output formatting", () => {
  it("prints a cell's lists joined, objects as JSON, and text on one line cut at 60 characters", () => {
    expect(cell(undefined)).toBe("");
    expect(cell(null)).toBe("");
    expect(cell(["a", "b"])).toBe("a,b");
    expect(cell({ a: 1 })).toBe('{"a":1}');
    expect(cell("two\n  lines")).toBe("two lines");
    expect(cell("x".repeat(70))).toBe("x".repeat(60));
    expect(cell(7)).toBe("7");
  });

  it("lays a table out as a header and rows, each column as wide as its widest cell", () => {
    const lines = tableLines(
      [
        { id: "A.ONE", count: 1 },
        { id: "B", count: 22, ignored: true },
      ],
      ["id", "count"],
    );

    expect(lines).toEqual(["id     count\n", "A.ONE  1\n", "B      22\n"]);
  });

  it("lays out an empty table as its header alone", () => {
    expect(tableLines([], ["id", "name"])).toEqual(["id  name\n"]);
  });

  it("finds the id a script wants: a decision's permission, a request's, else the thing's id, code or kid", () => {
    expect(idOf({ permission: { id: "p1" }, request: { id: "r1" } })).toBe("p1");
    expect(idOf({ request: { id: "r1" }, id: "x" })).toBe("r1");
    expect(idOf({ id: "x", code: "c" })).toBe("x");
    expect(idOf({ code: "c" })).toBe("c");
    expect(idOf({ kid: "k" })).toBe("k");
    expect(idOf({ id: 3 })).toBeUndefined();
    expect(idOf("text")).toBeUndefined();
  });

  it("names a failing record's line, path, rule and message", () => {
    expect(errorLine(3, { path: "/birthDate", rule: "format", message: "must be a date" })).toBe(
      "line 3: /birthDate: format: must be a date\n",
    );
  });
});
