import * as z from "zod/mini";
import { complianceReport, criterionScore, rankedDatabase } from "../oversight/model.ts";
import { SUPPRESSED } from "./figures.ts";

/*
 * What the public disclosure routes answer (Art. 13.1a, 13.4, 15.6, 22.6): schemas shared by the
 * handler, the OpenAPI document and the tests. Nothing here names a consumer system, a data key,
 * a transaction or an end user.
 */

const instant = z.string().check(z.describe("ISO 8601 date-time"));
const count = z.number().check(z.int(), z.minimum(0));
const agencyCode = z.string().check(z.regex(/^[A-Z][A-Z0-9]{1,15}$/, "must be an agency code"));

/** `?format=csv`: the whole resource as one CSV file instead of a page of JSON. */
export const formatQuery = z.object({
  format: z.optional(
    z
      .enum(["json", "csv"])
      .check(
        z.describe(
          "json (default): a page of the resource; csv: the whole resource as one CSV download (text/csv, RFC 4180, UTF-8), limit and cursor ignored",
        ),
      ),
  ),
});

export const publicComplianceQuery = z.object({
  ...formatQuery.shape,
  agency: z.optional(agencyCode.check(z.describe("One agency (default: every agency)"))),
});

export const figuresQuery = z.object({
  ...formatQuery.shape,
  period: z.optional(
    z
      .string()
      .check(
        z.regex(/^20\d\d(-(0[1-9]|1[0-2]))?$/, "must be YYYY or YYYY-MM"),
        z.describe("A year (YYYY) or a month (YYYY-MM), in Vietnam's time (UTC+7); default: the current month"),
      ),
  ),
});

const cell = z
  .union([count, z.literal(SUPPRESSED)])
  .check(z.describe(`A count, or "${SUPPRESSED}" where it would count 1 to 9 exchanges (or give such a count away)`));

export const figureRow = z.object({
  level: z.enum(["agency", "dataset"]),
  agency: z.string().check(z.describe("The managing (provider) agency")),
  datasetId: z.optional(z.string()),
  exchanges: cell,
  allowed: cell,
  denied: cell,
  failed: cell,
  latencyP50Ms: cell,
  latencyP95Ms: cell,
});

/** A figures row's columns, in the order the CSV download and the CLI's table show them. */
export const FIGURE_COLUMNS = Object.keys(figureRow.shape) as ReadonlyArray<keyof z.infer<typeof figureRow>>;

export const exchangeFigures = z.object({
  period: z.string(),
  from: instant,
  to: instant,
  complete: z.boolean().check(z.describe("The period is over: its figures will not change")),
  threshold: count.check(z.describe("Cells counting fewer exchanges than this are suppressed")),
  entriesRead: count,
  unattributed: count.check(z.describe("Entries naming no dataset of the catalog, counted here only")),
  truncated: z.boolean().check(z.describe("The period held more entries than are read per request (100,000)")),
  items: z.array(figureRow),
  nextCursor: z.optional(z.string()),
});
export type ExchangeFigures = z.infer<typeof exchangeFigures>;

export const publicRankedDatabase = z.pick(rankedDatabase, {
  datasetId: true,
  title: true,
  managingAgency: true,
  mandatory: true,
  score: true,
  class: true,
  reasons: true,
});

export const publicRanking = z.object({
  year: count,
  kind: z.literal("official"),
  indices: z.string().check(z.describe("Version of the ranking indices applied (Art. 15.6)")),
  publishedAt: instant,
  window: z.object({ from: instant, to: instant }),
  summary: z.object({ databases: count, A: count, B: count, C: count }),
  items: z.array(z.extend(publicRankedDatabase, { criteria: z.array(criterionScore) })),
  nextCursor: z.optional(z.string()),
});
export type PublicRanking = z.infer<typeof publicRanking>;

const complianceDataset = complianceReport.shape.datasets.def.element;
const complianceAgency = complianceReport.shape.agencies.def.element;

export const publicCompliance = z.object({
  asOf: instant,
  deadlines: complianceReport.shape.deadlines,
  items: z.array(z.extend(complianceAgency, { databases: z.array(complianceDataset) })),
  nextCursor: z.optional(z.string()),
});
export type PublicCompliance = z.infer<typeof publicCompliance>;

export const connectedDatabase = z.object({
  datasetId: z.string(),
  title: z.string(),
  managingAgency: z.string(),
  mandatory: complianceDataset.shape.mandatory,
  connectedOn: z.string().check(z.describe("Date of its first allowed exchange through the platform, in Vietnam")),
  connectedAt: instant,
});

export const connectedDatabases = z.object({
  connected: count.check(z.describe("Databases connected, of `databases` in the catalog")),
  databases: count,
  items: z.array(connectedDatabase),
  nextCursor: z.optional(z.string()),
});
export type ConnectedDatabases = z.infer<typeof connectedDatabases>;

export const disclosureIndex = z.object({
  description: z.string(),
  resources: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      articles: z.string().check(z.describe("The decree's articles it answers")),
      href: z.string().check(z.describe("Path below the API's base URL; `{year}` to be filled in")),
      csv: z.optional(z.string().check(z.describe("The same as one CSV download"))),
    }),
  ),
});
export type DisclosureIndex = z.infer<typeof disclosureIndex>;
