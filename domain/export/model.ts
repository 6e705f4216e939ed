import type { Writable } from "node:stream";
import * as z from "zod/mini";
import { storedNumber } from "../identifiers.ts";

/*
 * Export jobs (Art. 7.2d): a permitted consumer (or the operator) asks for a dataset of the
 * integrated database on storage media; a job writes the package (see package.ts) to the
 * exports bucket and the requester downloads it through a short-lived link.
 */

const fieldName = z.string().check(z.regex(/^[a-z][A-Za-z0-9]{0,63}$/, "must be a field name"));

/** Body of `POST /v1/exports`. */
export const exportInput = z.object({
  datasetId: z.string().check(z.minLength(3), z.maxLength(200)),
  format: z._default(z.enum(["ndjson", "csv"]), "ndjson"),
  /** The fields exported; none means every field the permission covers. */
  fields: z.optional(z.array(fieldName).check(z.minLength(1), z.maxLength(500))),
  /** Equality filters on exported fields. */
  filter: z._default(z.record(fieldName, z.union([z.string(), storedNumber, z.boolean()])), {}),
  /** The operator exports for this consumer, under its permission. */
  consumerSystem: z.optional(z.string().check(z.minLength(3), z.maxLength(200))),
  /** The operator exporting under its own mandate says why (a consumer's purpose is its permission's). */
  purpose: z.optional(z.string().check(z.minLength(10), z.maxLength(1000))),
});
export type ExportInput = z.infer<typeof exportInput>;

export type ExportState = "running" | "completed" | "failed";

/** What is exported, for whom and why: what a job records and its package's manifest states. */
export interface ExportTerms {
  readonly format: "ndjson" | "csv";
  /** The fields exported, in this order (CSV columns). */
  readonly fields: readonly string[];
  readonly filter: Readonly<Record<string, string | number | boolean>>;
  readonly requester: { readonly system: string; readonly agency: string };
  /** The consumer the package is for, and the permission and purpose it is exported under. */
  readonly consumer: { readonly system: string; readonly agency: string };
  readonly purpose: string;
  readonly purposeClass?: string;
  readonly permissionId?: string;
  readonly legalBasis?: string;
}

export interface ExportJob extends ExportTerms {
  readonly exportId: string;
  readonly datasetId: string;
  readonly schema: { readonly id: string; readonly version: string };
  readonly state: ExportState;
  /** Records written so far. */
  readonly progress: number;
  readonly createdAt: string;
  readonly completedAt?: string;
  readonly transactionId: string;
  /** Once completed: the archive and what it holds. */
  readonly archive?: {
    readonly key: string;
    readonly bytes: number;
    readonly sha256: string;
    readonly records: number;
    readonly withheld: number;
    readonly files: number;
  };
  readonly failure?: string;
}

export interface ExportStore {
  create(job: ExportJob): Promise<void>;
  get(exportId: string): Promise<ExportJob | undefined>;
  /** Changes a running job; false if it is no longer running. */
  update(exportId: string, changes: Partial<ExportJob>): Promise<boolean>;
}

/** Where packages go: a stream to the object, and later a link to download it. */
export interface PackageStore {
  /** A stream written to `key` (multipart, in bounded memory); `done` settles when it is stored. */
  open(key: string): { stream: Writable; done: Promise<{ bytes: number; sha256: string }> };
  presignGet(key: string, expiresInSeconds: number, filename: string): Promise<string>;
}

/** Starts the job that writes a package. */
export type ExportRunner = (exportId: string) => Promise<void>;
