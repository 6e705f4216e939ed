import { describe, expect, it } from "vitest";
import { UsageError } from "../../../cli/command.ts";
import { filtersOf, list, mapPage, optional, optionalLists, pageOf, whereClause } from "../../../cli/options.ts";

describe("the CLI's option helpers", () => {
  it("split a comma-separated option into its items, blanks dropped", () => {
    expect(list(" a, b,,c ")).toEqual(["a", "b", "c"]);
    expect(list(undefined)).toEqual([]);
  });

  it("keep only the string members that were given", () => {
    expect(optional({ a: "x", b: undefined, c: true, d: "" })).toEqual({ a: "x", d: "" });
  });

  it("keep only the lists given and not empty, each split", () => {
    expect(optionalLists({ fields: "a,b", roles: undefined, methods: "" })).toEqual({ fields: ["a", "b"] });
  });

  it("ask for the page --limit and --cursor name, and nothing when neither is given", () => {
    expect(pageOf({ limit: "5", cursor: "c1" })).toEqual({ limit: 5, cursor: "c1" });
    expect(pageOf({})).toEqual({});
  });

  it("map a page's items to one row or several, keeping its cursor", () => {
    const page = { items: [{ n: 1 }, { n: 2 }], nextCursor: "next" };

    expect(mapPage(page, (item) => ({ m: item.n * 10 }))).toEqual({
      items: [{ m: 10 }, { m: 20 }],
      nextCursor: "next",
    });
    expect(mapPage({ items: [{ n: 2 }] }, (item) => [item, item])).toEqual({ items: [{ n: 2 }, { n: 2 }] });
  });

  it("read field=value as a string and field:=value as JSON", () => {
    expect(whereClause("province=79")).toEqual(["province", "79"]);
    expect(whereClause("age:=42")).toEqual(["age", 42]);
    expect(whereClause("note=a=b")).toEqual(["note", "a=b"]);
  });

  it("refuse a --where clause without a value, or with JSON that does not parse", () => {
    expect(() => whereClause("province")).toThrow(new UsageError("--where province: expected field=value"));
    expect(() => whereClause("age:=forty")).toThrow(
      new UsageError("--where age:=forty: the value after := must be JSON"),
    );
  });

  it("turn every --where clause into one filter object", () => {
    expect(filtersOf({ where: ["province=79", "active:=true"] })).toEqual({ province: "79", active: true });
    expect(filtersOf({})).toEqual({});
  });
});
