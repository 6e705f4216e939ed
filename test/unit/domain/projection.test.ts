import { describe, expect, it } from "vitest";
import { pick } from "../../../domain/permissions/projection.ts";

describe("the field projection", () => {
  it("keeps only the named fields of a record", () => {
    const record = { personalId: "1", fullName: "Lê Văn Tám", gender: "M", province: "79" };

    expect(pick(record, ["personalId", "province"])).toEqual({ personalId: "1", province: "79" });
  });

  it("leaves out named fields the record does not have, rather than adding them empty", () => {
    expect(pick({ personalId: "1" }, ["personalId", "birthDate"])).toEqual({ personalId: "1" });
  });

  it("lists the fields in the order they are named", () => {
    expect(Object.keys(pick({ a: 1, b: 2, c: 3 }, ["c", "a"]))).toEqual(["c", "a"]);
  });

  it("keeps values as they are, null and nested values included", () => {
    const address = { street: "1 Lê Lợi", ward: "Bến Nghé" };

    expect(pick({ address, note: null, count: 0 }, ["address", "note", "count"])).toEqual({
      address,
      note: null,
      count: 0,
    });
  });

  it("gives nothing when no field is named", () => {
    expect(pick({ personalId: "1" }, [])).toEqual({});
  });

  it("keeps a field named __proto__ as the record's own field, never as the result's prototype", () => {
    const record = JSON.parse('{"__proto__": {"polluted": true}, "personalId": "1"}') as Record<string, unknown>;

    const picked = pick(record, ["__proto__", "personalId"]);

    expect(Object.hasOwn(picked, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(picked)).toBe(Object.prototype);
    expect((picked as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("does not alter the record it projects", () => {
    const record = { personalId: "1", gender: "M" };

    pick(record, ["personalId"]);

    expect(record).toEqual({ personalId: "1", gender: "M" });
  });
});
