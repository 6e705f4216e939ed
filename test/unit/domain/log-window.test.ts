import { describe, expect, it } from "vitest";
import { timeWindow } from "../../../domain/exchange-log/model.ts";
import { ValidationError } from "../../../domain/problem.ts";

describe("timeWindow", () => {
  it("spells each bound as the log's time keys do (UTC, milliseconds), so text comparison orders instants", () => {
    expect(timeWindow({ from: "2026-11-30T07:00:00+07:00", to: "2026-11-30T01:00:00Z", view: "all" })).toEqual({
      from: "2026-11-30T00:00:00.000Z",
      to: "2026-11-30T01:00:00.000Z",
      view: "all",
    });
    // An entry of the very second `from` names sorts after it, as it should.
    expect(`2026-11-30T00:00:00.123Z#tx` >= (timeWindow({ from: "2026-11-30T00:00:00Z" }).from ?? "")).toBe(true);
    expect(timeWindow({})).toEqual({});
  });

  it("refuses a window that ends before it starts, naming both bounds", () => {
    const refuse = () => timeWindow({ from: "2030-01-01T00:00:00Z", to: "2026-11-30T08:00:00+07:00" });

    expect(refuse).toThrow(ValidationError);
    try {
      refuse();
    } catch (error) {
      expect((error as ValidationError).invalidParams.map((param) => param.name)).toEqual(["from", "to"]);
    }
  });

  it("keeps bounds beyond the years 0000-9999 within them after the offset moves them", () => {
    expect(timeWindow({ from: "0000-01-01T00:00:00+01:00", to: "9999-12-31T23:59:59-14:00" })).toEqual({
      from: "0000-01-01T00:00:00.000Z",
      to: "9999-12-31T23:59:59.999Z",
    });
  });
});
