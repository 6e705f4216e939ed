import * as z from "zod/mini";
import { ValidationError } from "../problem.ts";
import { CRITERIA, type RankingIndices, rankingIndices } from "./model.ts";
import { RANKING_INDICES } from "./ranking.ts";

/*
 * The ranking indices as data (Art. 15.6): the Ministry of Public Security issues them, a new
 * version each time, through the API; a published version is never edited, and every ranking
 * names the version it applied. The first version ships with the platform (RANKING_INDICES).
 */

/** What the supervisor sends to publish a version: the platform dates it. */
export const newIndicesInput = z.object({
  version: z
    .string()
    .check(
      z.regex(/^\d{4}\.[1-9]\d{0,3}$/, "must be YYYY.N, e.g. 2027.1"),
      z.describe("YYYY.N: the year it first applies to and its number in that year"),
    ),
  description: z.string().check(z.minLength(1), z.maxLength(2000)),
  weights: z.record(z.enum(CRITERIA), z.number()),
  classes: rankingIndices.shape.classes,
  lateIsC: z.boolean(),
  targets: rankingIndices.shape.targets,
});
export type NewIndicesInput = z.infer<typeof newIndicesInput>;

/** `GET /v1/rankings/indices`: every version, oldest first, and which one applies by default. */
export const indicesCatalog = z.object({
  latest: z.string().check(z.describe("The version a ranking applies when it names none: the newest published")),
  indices: z.array(rankingIndices),
});
export type IndicesCatalog = z.infer<typeof indicesCatalog>;

/**
 * The checks a schema cannot make, every one named: each criterion weighed, weights whole
 * non-negative numbers summing to 100, thresholds from 0 to 100 with A's above B's, targets
 * positive.
 */
export function indicesProblems(input: NewIndicesInput): Array<{ name: string; reason: string }> {
  const problems: Array<{ name: string; reason: string }> = [];
  let sum = 0;
  for (const criterion of CRITERIA) {
    const weight = input.weights[criterion];
    if (weight === undefined) {
      problems.push({ name: `weights.${criterion}`, reason: "every criterion of Art. 15.2 needs a weight" });
    } else if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
      problems.push({ name: `weights.${criterion}`, reason: "must be a whole number from 0 to 100" });
    } else sum += weight;
  }
  if (problems.length === 0 && sum !== 100) {
    problems.push({ name: "weights", reason: `must sum to 100 (they sum to ${sum})` });
  }
  for (const rankClass of ["A", "B"] as const) {
    for (const bound of ["score", "criterion"] as const) {
      const value = input.classes[rankClass][bound];
      if (!(value >= 0 && value <= 100)) {
        problems.push({ name: `classes.${rankClass}.${bound}`, reason: "must be from 0 to 100" });
      }
    }
  }
  if (input.classes.A.score <= input.classes.B.score) {
    problems.push({ name: "classes.A.score", reason: "must be above classes.B.score: thresholds are ordered A > B" });
  }
  if (input.classes.A.criterion < input.classes.B.criterion) {
    problems.push({ name: "classes.A.criterion", reason: "must not be below classes.B.criterion" });
  }
  for (const [target, value] of Object.entries(input.targets)) {
    if (!(value > 0)) problems.push({ name: `targets.${target}`, reason: "must be above 0" });
  }
  for (const share of ["publicServiceShare", "availability"] as const) {
    if (input.targets[share] > 100) problems.push({ name: `targets.${share}`, reason: "is a percentage: at most 100" });
  }
  return problems;
}

/** The version as published: validated, dated (the platform's day, UTC), ready to store. */
export function publishedIndices(input: NewIndicesInput, now: Date): RankingIndices {
  const problems = indicesProblems(input);
  if (problems.length > 0) throw new ValidationError("the ranking indices do not hold together", problems);
  if (RANKING_INDICES[input.version]) {
    throw new ValidationError(`ranking indices ${input.version} ship with the platform`, [
      { name: "version", reason: "is taken: publish the next version" },
    ]);
  }
  return { ...input, published: now.toISOString().slice(0, 10) };
}

/** Every version, the platform's own and the published ones, oldest first; the latest is the newest published. */
export function indicesCatalogOf(stored: readonly RankingIndices[]): IndicesCatalog {
  const all = [...Object.values(RANKING_INDICES), ...stored.filter((item) => !RANKING_INDICES[item.version])];
  all.sort((a, b) =>
    a.published !== b.published ? (a.published < b.published ? -1 : 1) : compareVersions(a.version, b.version),
  );
  return { latest: (all.at(-1) as RankingIndices).version, indices: all };
}

function compareVersions(a: string, b: string): number {
  const [ay = 0, an = 0] = a.split(".").map(Number);
  const [by = 0, bn = 0] = b.split(".").map(Number);
  return ay - by || an - bn;
}
