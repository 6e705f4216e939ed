import { describe, expect, it } from "vitest";
import {
  indicesCatalogOf,
  indicesProblems,
  type NewIndicesInput,
  newIndicesInput,
  publishedIndices,
} from "../../../domain/oversight/indices.ts";
import { RANKING_INDICES } from "../../../domain/oversight/ranking.ts";
import { ValidationError } from "../../../domain/problem.ts";

const first = RANKING_INDICES["2026.1"] as NonNullable<(typeof RANKING_INDICES)[string]>;
const next = (changes: Partial<NewIndicesInput> = {}): NewIndicesInput => {
  const { published: _published, ...rest } = first;
  return { ...rest, version: "2027.1", description: "Stricter classes", ...changes };
};

describe("publishing ranking indices (Art. 15.6)", () => {
  it("dates a sound version with the platform's day and keeps everything else as sent", () => {
    const published = publishedIndices(next(), new Date("2027-01-05T03:00:00Z"));

    expect(published).toEqual({ ...next(), published: "2027-01-05" });
    expect(newIndicesInput.safeParse(next()).success).toBe(true);
  });

  it("names every weight that is missing, not whole or out of range, and a sum other than 100", () => {
    const { h: _h, ...missing } = first.weights;
    expect(indicesProblems(next({ weights: { ...missing, a: 20.5 } as never }))).toEqual([
      { name: "weights.a", reason: "must be a whole number from 0 to 100" },
      { name: "weights.h", reason: "every criterion of Art. 15.2 needs a weight" },
    ]);
    expect(indicesProblems(next({ weights: { ...first.weights, a: 30 } }))).toEqual([
      { name: "weights", reason: "must sum to 100 (they sum to 110)" },
    ]);
  });

  it("refuses thresholds out of order or out of range, and targets that are not positive", () => {
    const problems = indicesProblems(
      next({
        classes: { A: { score: 60, criterion: 10 }, B: { score: 70, criterion: 20 } },
        targets: { ...first.targets, consumerSystems: 0, availability: 120 },
      }),
    );

    expect(problems.map((problem) => problem.name)).toEqual([
      "classes.A.score",
      "classes.A.criterion",
      "targets.consumerSystems",
      "targets.availability",
    ]);
    expect(() => publishedIndices(next({ weights: { ...first.weights, a: 0 } }), new Date())).toThrow(ValidationError);
  });

  it("refuses the version that ships with the platform and a version not spelt YYYY.N", () => {
    expect(() => publishedIndices(next({ version: "2026.1" }), new Date())).toThrow(/ship with the platform/);
    expect(newIndicesInput.safeParse(next({ version: "v2" })).success).toBe(false);
    expect(newIndicesInput.safeParse(next({ version: "2027.0" })).success).toBe(false);
  });

  it("lists the platform's version and the published ones oldest first, the newest being the latest", () => {
    const later = { ...next({ version: "2027.2" }), published: "2027-03-01" };
    const earlier = { ...next({ version: "2027.1" }), published: "2027-01-05" };

    const catalog = indicesCatalogOf([later, earlier]);

    expect(catalog.indices.map((item) => item.version)).toEqual(["2026.1", "2027.1", "2027.2"]);
    expect(catalog.latest).toBe("2027.2");
    expect(indicesCatalogOf([]).latest).toBe("2026.1");
  });
});
