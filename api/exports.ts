import * as z from "zod/mini";
import { type ExportJob, exportInput } from "../domain/export/model.ts";
import { type AllTrue, type Describes, instant, named, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/* Export packages for storage media (Art. 7.2d). */

const party = z.object({ system: z.string(), agency: z.string() });

const exportShape = {
  exportId: z.string(),
  datasetId: z.string(),
  format: z.enum(["ndjson", "csv"]),
  fields: z.array(z.string()),
  filter: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  schema: z.object({ id: z.string(), version: z.string() }),
  requester: party,
  consumer: party.check(z.describe("Whom the package is for; its permission governs the fields")),
  purpose: z.string(),
  purposeClass: z.optional(z.string()),
  permissionId: z.optional(z.string()),
  legalBasis: z.optional(z.string()),
  state: z.enum(["running", "completed", "failed"]),
  progress: z.number().check(z.int(), z.describe("Records written so far")),
  createdAt: instant,
  completedAt: z.optional(instant),
  transactionId: z.string(),
  archive: z.optional(
    z.object({
      key: z.string(),
      bytes: z.number().check(z.int()),
      sha256: z.string().check(z.describe("SHA-256 of the whole .tar.gz as stored")),
      records: z.number().check(z.int()),
      withheld: z.number().check(z.int(), z.describe("Records that broke the schema, listed in the manifest")),
      files: z.number().check(z.int()),
    }),
  ),
  failure: z.optional(z.string()),
};

export const exportJob = z.object(exportShape);

export const exportStatus = z.object({
  ...exportShape,
  download: z.optional(
    z
      .object({ url: z.string(), expiresAt: instant })
      .check(z.describe("Once completed: GET the package here (a BagIt bag, .tar.gz), for 15 minutes")),
  ),
});

/** Served by the export API function. */
export const exportRoutes = routes({
  startExport: {
    method: "POST",
    path: "/v1/exports",
    tag: "Export",
    summary: "Export a dataset of the integrated database as a signed package for storage media (Art. 7.2d)",
    description:
      "A consumer whose permission allows the export method gets its permitted fields (or fewer); the operator exports for a consumer under its permission, or under its own mandate with a stated purpose. A job writes a BagIt 1.0 bag (gzipped ustar): the records in NDJSON or CSV files, the schema, SHA-256 manifests, and a manifest signed by the platform's key (dscp export verify checks it offline). Every export is an exchange-log entry.",
    auth: "signed",
    body: named("ExportRequest", exportInput),
    success: { status: 202, description: "The job, running", schema: named("Export", exportJob) },
    problems: [...signedProblems, 404, 422],
  },
  getExport: {
    method: "GET",
    path: "/v1/exports/{exportId}",
    tag: "Export",
    summary: "An export's state and progress, and once written, what it holds and a link to download it",
    auth: "signed",
    success: { status: 200, description: "The export", schema: named("ExportStatus", exportStatus) },
    problems: [401, 403, 404],
  },
});

export type ExportDriftChecks = AllTrue<[Describes<typeof exportJob, ExportJob>]>;
