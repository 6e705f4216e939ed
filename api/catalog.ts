import * as z from "zod/mini";
import type { PublicDataset } from "../domain/catalog/catalog-service.ts";
import {
  CLASSIFICATIONS,
  catalogQuery,
  type Dataset,
  datasetField,
  datasetPatch,
  MANDATORY_LISTS,
  newDatasetInput,
  SHARING_METHODS,
} from "../domain/catalog/model.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { type AllTrue, type Describes, instant, named, page, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/* The catalog of datasets (Art. 4.5): published and amended by providers, public to read. */

const datasetShape = {
  id: z.string(),
  managingAgency: z.string(),
  providerSystem: z.string(),
  title: z.string(),
  titleEn: z.optional(z.string()),
  description: z.string(),
  scope: z.string(),
  qualityStatement: z.string(),
  accessConditions: z.string(),
  updateFrequency: z.optional(z.string()),
  classification: z.enum(CLASSIFICATIONS.filter((value) => value !== "secret") as ["public", "internal", "restricted"]),
  mandatory: z.enum(MANDATORY_LISTS),
  crossBorderAllowed: z.boolean(),
  methods: z.array(z.enum(SHARING_METHODS)),
  schema: z.optional(z.object({ id: z.string(), version: z.string() })),
  standardisedAt: z.optional(instant),
  keyFields: z.array(z.string()),
  fields: z.array(datasetField),
  createdAt: instant,
  updatedAt: instant,
  revision: z.number().check(z.int(), z.describe("Increments with every change")),
};

export const dataset = z.object({ ...datasetShape, upstreamPath: z.optional(z.string()) });

export const publicDataset = z.object(datasetShape);

const PUBLIC_CATALOG = {
  public: "The catalog is public by design (Art. 4.5: agencies publish what data they manage, for everyone to see).",
};

/** Served by the catalog function. */
export const catalogRoutes = routes({
  publishDataset: {
    method: "POST",
    path: "/v1/datasets",
    tag: "Catalog",
    summary: "Publish a dataset to the catalog (Art. 4.5); `secret` data is refused (Art. 9.3)",
    auth: "signed",
    body: named("NewDataset", newDatasetInput),
    success: { status: 201, description: "Published", schema: named("Dataset", dataset) },
    problems: [...signedProblems, 404, 409, 422],
    bulkBody: true,
  },
  amendDataset: {
    method: "PATCH",
    path: "/v1/datasets/{datasetId}",
    tag: "Catalog",
    summary: "Amend a dataset's description (never its identity, provider or structure)",
    auth: "signed",
    body: named("DatasetPatch", datasetPatch),
    success: { status: 200, description: "Amended", schema: named("Dataset", dataset) },
    problems: [...signedProblems, 404, 409, 422],
    bulkBody: true,
  },
  listCatalog: {
    method: "GET",
    path: "/v1/catalog/datasets",
    tag: "Catalog",
    summary: "The public catalog of shared datasets",
    auth: PUBLIC_CATALOG,
    query: [catalogQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of datasets",
      schema: named("PublicDatasetPage", page(publicDataset)),
    },
    problems: [400],
  },
  getCatalogDataset: {
    method: "GET",
    path: "/v1/catalog/datasets/{datasetId}",
    tag: "Catalog",
    summary: "One dataset of the public catalog",
    auth: PUBLIC_CATALOG,
    success: { status: 200, description: "The dataset", schema: named("PublicDataset", publicDataset) },
    problems: [404],
  },
});

export type CatalogDriftChecks = AllTrue<
  [Describes<typeof dataset, Dataset>, Describes<typeof publicDataset, PublicDataset>]
>;
