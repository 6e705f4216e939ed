import { describe, expect, it } from "vitest";
import type { Dataset } from "../../../domain/catalog/model.ts";
import { csvCell, toCsv } from "../../../domain/disclosure/csv.ts";
import { DisclosureService, pageOf } from "../../../domain/disclosure/disclosure-service.ts";
import {
  aggregateFigures,
  type FigureEntry,
  SUPPRESSED,
  suppressOutcomes,
} from "../../../domain/disclosure/figures.ts";
import { entityTag, matchesEntityTag } from "../../../domain/disclosure/http-cache.ts";
import type { RankingHead } from "../../../domain/oversight/model.ts";
import { ValidationError } from "../../../domain/problem.ts";

async function* stream(entries: readonly FigureEntry[]): AsyncGenerator<FigureEntry> {
  yield* entries;
}

function entries(datasetId: string, count: number, outcome: FigureEntry["outcome"] = "allowed", latencyMs = 20) {
  return Array.from({ length: count }, (_, index) => ({ datasetId, outcome, latencyMs: latencyMs + index }));
}

const owners = new Map([
  ["MPS.POPULATION.CITIZENS", "MPS"],
  ["MPS.POPULATION.REGISTER", "MPS"],
  ["MPS.VEHICLES", "MPS"],
  ["MOH.INSURANCE", "MOH"],
]);

describe("exchange figures", () => {
  it("suppress a dataset cell of fewer than 10 exchanges, shown as suppressed and not as zero", async () => {
    const figures = await aggregateFigures(
      stream([
        ...entries("MPS.POPULATION.CITIZENS", 40),
        ...entries("MPS.VEHICLES", 3),
        ...entries("MOH.INSURANCE", 25),
      ]),
      owners,
    );

    const vehicles = figures.rows.find((row) => row.datasetId === "MPS.VEHICLES");
    expect(vehicles).toMatchObject({ exchanges: SUPPRESSED, allowed: SUPPRESSED, latencyP95Ms: SUPPRESSED });
    expect(figures.rows.find((row) => row.datasetId === "MOH.INSURANCE")).toMatchObject({
      exchanges: 25,
      allowed: 25,
      denied: 0,
      failed: 0,
      latencyP50Ms: 32,
      latencyP95Ms: 43,
    });
  });

  it("suppress a second dataset of the agency when one alone would be given away by the agency's total", async () => {
    const figures = await aggregateFigures(
      stream([
        ...entries("MPS.POPULATION.CITIZENS", 40),
        ...entries("MPS.POPULATION.REGISTER", 12),
        ...entries("MPS.VEHICLES", 3),
      ]),
      owners,
    );

    expect(figures.rows.find((row) => row.level === "agency" && row.agency === "MPS")?.exchanges).toBe(55);
    expect(figures.rows.find((row) => row.datasetId === "MPS.POPULATION.REGISTER")?.exchanges).toBe(SUPPRESSED);
    expect(figures.rows.find((row) => row.datasetId === "MPS.POPULATION.CITIZENS")?.exchanges).toBe(40);
  });

  it("suppress a small outcome and, so it cannot be worked out from the total, the smallest other", () => {
    expect(suppressOutcomes({ allowed: 45, denied: 3, failed: 0 }, 10)).toEqual({
      allowed: SUPPRESSED,
      denied: SUPPRESSED,
      failed: 0,
    });
    expect(suppressOutcomes({ allowed: 45, denied: 3, failed: 12 }, 10)).toEqual({
      allowed: 45,
      denied: SUPPRESSED,
      failed: SUPPRESSED,
    });
    expect(suppressOutcomes({ allowed: 45, denied: 3, failed: 2 }, 10)).toEqual({
      allowed: 45,
      denied: SUPPRESSED,
      failed: SUPPRESSED,
    });
    expect(suppressOutcomes({ allowed: 45, denied: 0, failed: 0 }, 10)).toEqual({ allowed: 45, denied: 0, failed: 0 });
  });

  it("count entries naming no dataset of the catalog apart, publishing nothing of what they named", async () => {
    const figures = await aggregateFigures(
      stream([...entries("MOH.INSURANCE", 10), ...entries("<script>made-up</script>", 50, "denied")]),
      owners,
    );

    expect(figures.unattributed).toBe(50);
    expect(JSON.stringify(figures)).not.toContain("made-up");
    expect(figures.rows.map((row) => row.datasetId ?? row.agency)).toEqual(["MOH", "MOH.INSURANCE"]);
  });

  it("read at most the bound of entries and say the figures are truncated", async () => {
    const figures = await aggregateFigures(stream(entries("MOH.INSURANCE", 30)), owners, { maxEntries: 20 });

    expect(figures).toMatchObject({ entriesRead: 20, truncated: true });
  });
});

describe("CSV", () => {
  it("quotes cells with commas, quotes and line breaks, ends lines with CRLF, and leaves absent cells empty", () => {
    expect(
      toCsv(
        ["a", "b", "c"],
        [
          ["x, y", 'say "hi"', undefined],
          ["line\nbreak", 3, true],
        ],
      ),
    ).toBe('a,b,c\r\n"x, y","say ""hi""",\r\n"line\nbreak",3,true\r\n');
  });

  it("neutralises text a spreadsheet would run as a formula, and keeps numbers as numbers", () => {
    expect(csvCell("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell(-5)).toBe("-5");
    expect(csvCell(SUPPRESSED)).toBe("suppressed");
  });
});

describe("paging and entity tags", () => {
  it("pages a list by offset and refuses a cursor it never gave", () => {
    const first = pageOf([1, 2, 3, 4, 5], { limit: 2 });
    const second = pageOf([1, 2, 3, 4, 5], { limit: 2, ...(first.nextCursor ? { cursor: first.nextCursor } : {}) });

    expect(first.items).toEqual([1, 2]);
    expect(second.items).toEqual([3, 4]);
    expect(() => pageOf([1], { limit: 2, cursor: "bm9wZQ" })).toThrow(ValidationError);
  });

  it("match If-None-Match lists, weak tags and *", () => {
    const tag = entityTag("body");

    expect(matchesEntityTag(`"other", W/${tag}`, tag)).toBe(true);
    expect(matchesEntityTag("*", tag)).toBe(true);
    expect(matchesEntityTag('"other"', tag)).toBe(false);
    expect(matchesEntityTag(undefined, tag)).toBe(false);
    expect(entityTag("body")).toBe(tag);
  });
});

describe("public disclosure", () => {
  const head = (state: RankingHead["state"]): RankingHead => ({
    year: 2025,
    indices: "2026.1",
    state,
    requestedBy: "NDC.OPERATOR",
    requestedAt: "2026-01-02T00:00:00.000Z",
    ...(state === "published" ? { publishedAt: "2026-01-02T00:05:00.000Z" } : {}),
    window: { from: "2024-12-31T17:00:00.000Z", to: "2025-12-31T16:59:59.999Z" },
    summary: { databases: 0, A: 0, B: 0, C: 0 },
    revision: 2,
  });
  const service = (state: RankingHead["state"] | undefined) =>
    new DisclosureService({
      rankings: {
        rankingHead: async (_year, agency) => (agency === undefined && state ? head(state) : undefined),
        rankedDatabases: async () => [],
      },
      datasets: async () => [] as Dataset[],
      connections: async () => new Map(),
      entries: () => stream([]),
      now: () => new Date("2026-11-30T08:00:00Z"),
    });

  it.each(["computing", "failed", undefined] as const)("does not publish a ranking that is %s", async (state) => {
    await expect(service(state).ranking(2025)).rejects.toThrow("no published ranking of 2025");
  });

  it("publishes an official ranking without who requested it", async () => {
    const ranking = await service("published").ranking(2025);

    expect(ranking).toMatchObject({ year: 2025, kind: "official", indices: "2026.1" });
    expect(JSON.stringify(ranking)).not.toContain("NDC.OPERATOR");
  });

  it("takes a month or a year in Vietnam's time, and refuses a period to come", async () => {
    const month = await service(undefined).figures("2026-11");

    expect(month).toMatchObject({ from: "2026-10-31T17:00:00.000Z", complete: false });
    expect(await service(undefined).figures("2025")).toMatchObject({
      to: "2025-12-31T16:59:59.999Z",
      complete: true,
    });
    await expect(service(undefined).figures("2027-01")).rejects.toThrow(ValidationError);
  });
});
