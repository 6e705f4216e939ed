import { describe, expect, it } from "vitest";
import type { Dataset } from "../../../domain/catalog/model.ts";
import { standardisationOf } from "../../../domain/dictionary/standardisation.ts";

const dataset = (overrides: Partial<Dataset>): Dataset =>
  ({ id: "MPS.POPULATION.CITIZENS", managingAgency: "MPS", mandatory: "none", ...overrides }) as Dataset;
const schema = { id: "MPS.CITIZEN", version: "1.0.0" };

describe("standardisation against the Art. 24 deadlines", () => {
  it("holds Appendix I databases to 31 Dec 2025 and every other one to 31 Dec 2026", () => {
    expect(standardisationOf(dataset({ mandatory: "appendix-i" }), "2025-06-01").deadline).toBe("2025-12-31");
    expect(standardisationOf(dataset({ mandatory: "appendix-ii" }), "2025-06-01").deadline).toBe("2026-12-31");
    expect(standardisationOf(dataset({ mandatory: "none" }), "2025-06-01").deadline).toBe("2026-12-31");
  });

  it("calls a dataset standardised on time, or late, by the day in Vietnam it first named a schema", () => {
    // 23:59 on 31 Dec 2025 in Hanoi is 16:59 UTC; 00:00 on 1 Jan 2026 there is 17:00 UTC.
    const onTime = standardisationOf(
      dataset({ mandatory: "appendix-i", schema, standardisedAt: "2025-12-31T16:59:00.000Z" }),
      "2026-11-27",
    );
    const late = standardisationOf(
      dataset({ mandatory: "appendix-i", schema, standardisedAt: "2025-12-31T17:00:00.000Z" }),
      "2026-11-27",
    );

    expect(onTime).toMatchObject({ status: "standardised", standardisedOn: "2025-12-31", schema });
    expect(late).toMatchObject({ status: "standardised-late", standardisedOn: "2026-01-01" });
    expect(onTime.daysLeft).toBeUndefined();
  });

  it("counts the days left while pending, and calls it overdue the day after the deadline", () => {
    expect(standardisationOf(dataset({}), "2026-11-27")).toMatchObject({ status: "pending", daysLeft: 34 });
    expect(standardisationOf(dataset({}), "2026-12-31")).toMatchObject({ status: "pending", daysLeft: 0 });
    expect(standardisationOf(dataset({}), "2027-01-01")).toMatchObject({ status: "overdue", daysLeft: -1 });
  });
});
