import * as z from "zod/mini";
import { datasetId, MAX_ID_LENGTH } from "../identifiers.ts";

/** Classification of a dataset; `secret` data follows its own law and never enters DSCP (Art. 9.3). */
export const CLASSIFICATIONS = ["public", "internal", "restricted", "secret"] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** The decree's lists of databases whose sharing is mandatory (Art. 8, Appendices I and II). */
export const MANDATORY_LISTS = ["appendix-i", "appendix-ii", "none"] as const;
export type MandatoryList = (typeof MANDATORY_LISTS)[number];

/** Sharing methods of Art. 7.2: (a) request, (b) sync to consumers, (c) integrated database, (d) export. */
export const SHARING_METHODS = ["request", "sync", "integrated", "export"] as const;
export type SharingMethod = (typeof SHARING_METHODS)[number];

const fieldName = z
  .string()
  .check(z.regex(/^[a-z][A-Za-z0-9]{0,63}$/, "must be a camelCase name of 1-64 letters and digits"));
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/** One field of a dataset's records, as the catalog describes it (the dictionary refines it). */
export const datasetField = z.object({
  name: fieldName,
  type: z.enum(["string", "integer", "number", "boolean", "date", "date-time", "object", "array"]),
  description: z.optional(text(500)),
  personal: z._default(z.boolean(), false),
});

const describedFields = {
  title: text(200),
  titleEn: z.optional(text(200)),
  description: text(4000),
  scope: text(2000),
  qualityStatement: text(2000),
  accessConditions: text(2000),
  updateFrequency: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/,
          "must be an ISO 8601 duration, e.g. P1D",
        ),
      ),
  ),
  classification: z.enum(CLASSIFICATIONS),
  mandatory: z.enum(MANDATORY_LISTS),
  crossBorderAllowed: z.boolean(),
  methods: z.array(z.enum(SHARING_METHODS)).check(z.minLength(1), z.maxLength(4)),
  /** Path below the provider system's endpoint that serves the dataset (method a). */
  upstreamPath: z.optional(z.string().check(z.regex(/^\/[A-Za-z0-9._~/{}-]*$/, "must be an absolute path"))),
  /** The dictionary schema version its records follow (Art. 19): naming one standardises the dataset. */
  schema: z.optional(
    z.object({
      id: z.string().check(z.minLength(3), z.maxLength(100)),
      version: z.string().check(z.regex(/^\d{1,4}\.\d{1,4}\.\d{1,4}$/, "must be MAJOR.MINOR.PATCH")),
    }),
  ),
};

export const newDatasetInput = z.object({
  id: datasetId,
  providerSystem: z.string().check(z.minLength(3), z.maxLength(MAX_ID_LENGTH)),
  keyFields: z.array(fieldName).check(z.minLength(1), z.maxLength(5)),
  fields: z.array(datasetField).check(z.minLength(1), z.maxLength(500)),
  ...describedFields,
  // Defaults apply when publishing only: a PATCH that omits them changes nothing.
  mandatory: z._default(z.enum(MANDATORY_LISTS), "none"),
  crossBorderAllowed: z._default(z.boolean(), false),
});
export type NewDatasetInput = z.infer<typeof newDatasetInput>;

/** What a PATCH may change: the description, never identity, provider or structure. */
export const datasetPatch = z.partial(z.strictObject(describedFields));
export type DatasetPatch = z.infer<typeof datasetPatch>;

export type DatasetField = z.infer<typeof datasetField>;

export interface Dataset {
  readonly id: string;
  readonly managingAgency: string;
  readonly providerSystem: string;
  readonly title: string;
  readonly titleEn?: string;
  readonly description: string;
  readonly scope: string;
  readonly qualityStatement: string;
  readonly accessConditions: string;
  readonly updateFrequency?: string;
  readonly classification: Exclude<Classification, "secret">;
  readonly mandatory: MandatoryList;
  readonly crossBorderAllowed: boolean;
  readonly methods: readonly SharingMethod[];
  readonly upstreamPath?: string;
  readonly schema?: { readonly id: string; readonly version: string };
  /** When the dataset first named a dictionary schema (Art. 24). */
  readonly standardisedAt?: string;
  readonly keyFields: readonly string[];
  readonly fields: readonly DatasetField[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Increments with every change. */
  readonly revision: number;
}

/** Query parameters of the public catalog listing, as they arrive (strings). */
export const catalogQuery = z.object({
  agency: z.optional(z.string().check(z.regex(/^[A-Z][A-Z0-9]{1,15}$/, "must be an agency code"))),
  classification: z.optional(z.enum(CLASSIFICATIONS)),
  mandatory: z.optional(z.enum(MANDATORY_LISTS)),
  crossBorderAllowed: z.optional(z.enum(["true", "false"])),
  method: z.optional(z.enum(SHARING_METHODS)),
});

/** Filters of the public catalog listing. */
export interface CatalogFilter {
  readonly agency?: string;
  readonly classification?: Classification;
  readonly mandatory?: MandatoryList;
  readonly crossBorderAllowed?: boolean;
  readonly method?: SharingMethod;
}

export interface CatalogStore {
  /** Throws ConflictError when the id is taken. */
  createDataset(dataset: Dataset): Promise<void>;
  getDataset(id: string): Promise<Dataset | undefined>;
  /** Writes `next` if the stored revision is still `expectedRevision`; false otherwise. */
  replaceDataset(next: Dataset, expectedRevision: number): Promise<boolean>;
  listDatasets(
    filter: CatalogFilter,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: Dataset[]; nextCursor?: string }>;
}

/** A record's data key (Art. 3.6), as text: its key fields' values joined by `|`; a missing or null one is empty. */
export function dataKeyOf(record: Readonly<Record<string, unknown>>, keyFields: readonly string[]): string {
  // Own fields only: a field named `constructor` or `toString` is data, never an inherited member.
  return keyFields.map((field) => String((Object.hasOwn(record, field) ? record[field] : undefined) ?? "")).join("|");
}
