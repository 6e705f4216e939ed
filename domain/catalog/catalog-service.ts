import type { DictionaryStore } from "../dictionary/model.ts";
import { requireAdmin, requireAgencyOrAdmin } from "../identity/authorization.ts";
import { ConflictError, NotFoundError, ProblemError, ValidationError } from "../problem.ts";
import type { Caller, RegistryStore } from "../registry/model.ts";
import { parseInput } from "../validation.ts";
import {
  type CatalogFilter,
  type CatalogStore,
  type Dataset,
  datasetPatch,
  type NewDatasetInput,
  newDatasetInput,
} from "./model.ts";

/** State-secret data follows its own law and is never shared through DSCP (Art. 9.3). */
export class SecretDataRefusedError extends ProblemError {
  constructor(datasetId: string) {
    super(
      422,
      "secret-data-refused",
      "State-secret data is not shared through the platform",
      `${datasetId} is classified secret: Art. 9.3 of the decree leaves state-secret data to its own law, outside DSCP`,
    );
  }
}

/** The dataset as the public catalog shows it: no upstream path, which only its provider needs. */
export type PublicDataset = Omit<Dataset, "upstreamPath">;

export function publicView(dataset: Dataset): PublicDataset {
  const { upstreamPath: _upstreamPath, ...rest } = dataset;
  return rest;
}

/** The catalog of shared datasets (Art. 4.5): providers publish, everyone reads. */
export class CatalogService {
  constructor(
    private readonly catalog: CatalogStore,
    private readonly registry: RegistryStore,
    private readonly schemas: Pick<DictionaryStore, "getSchemaVersion">,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** A provider (or the operator) publishes a dataset of one of its provider systems. */
  async publish(caller: Caller, input: unknown): Promise<Dataset> {
    const parsed = parseInput(newDatasetInput, input, "dataset");
    if (parsed.classification === "secret") throw new SecretDataRefusedError(parsed.id);
    const agency = parsed.providerSystem.split(".")[0] ?? "";
    requireAgencyOrAdmin(caller, agency, `publish datasets of ${agency}`);
    if (parsed.mandatory !== "none") requireAdmin(caller, "put a dataset on a mandatory list");
    await this.checkProvider(parsed);
    checkStructure(parsed);
    await this.checkSchema(parsed);
    const at = this.now().toISOString();
    const { classification, ...rest } = parsed;
    const dataset: Dataset = {
      ...rest,
      classification,
      managingAgency: agency,
      ...(parsed.schema ? { standardisedAt: at } : {}),
      createdAt: at,
      updatedAt: at,
      revision: 1,
    };
    await this.catalog.createDataset(dataset);
    return dataset;
  }

  /** The managing agency (or the operator) changes a dataset's description. */
  async amend(caller: Caller, datasetId: string, input: unknown): Promise<Dataset> {
    const patch = parseInput(datasetPatch, input, "dataset change");
    if (patch.classification === "secret") throw new SecretDataRefusedError(datasetId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.catalog.getDataset(datasetId);
      if (!current) throw new NotFoundError(`no dataset ${datasetId}`);
      requireAgencyOrAdmin(caller, current.managingAgency, `change ${datasetId}`);
      if (patch.mandatory !== undefined && patch.mandatory !== current.mandatory) {
        requireAdmin(caller, "change a dataset's mandatory list");
      }
      const at = this.now().toISOString();
      const next = {
        ...current,
        ...patch,
        ...(patch.schema && !current.standardisedAt ? { standardisedAt: at } : {}),
        updatedAt: at,
        revision: current.revision + 1,
      } as Dataset;
      checkMethods(next);
      if (patch.schema) await this.checkSchema(next);
      if (await this.catalog.replaceDataset(next, current.revision)) return next;
    }
    throw new ConflictError(`${datasetId} kept changing under this request; retry it`);
  }

  async get(datasetId: string): Promise<PublicDataset> {
    const dataset = await this.catalog.getDataset(datasetId);
    if (!dataset) throw new NotFoundError(`no dataset ${datasetId} in the catalog`);
    return publicView(dataset);
  }

  async list(filter: CatalogFilter, page: { limit: number; cursor?: string }) {
    const { items, nextCursor } = await this.catalog.listDatasets(filter, page);
    return { items: items.map(publicView), ...(nextCursor ? { nextCursor } : {}) };
  }

  /** The schema a dataset names is published, has the dataset's key, and defines each of its fields. */
  private async checkSchema(dataset: Pick<Dataset, "schema" | "keyFields" | "fields">): Promise<void> {
    if (!dataset.schema) return;
    const { id, version } = dataset.schema;
    const found = await this.schemas.getSchemaVersion(id, version);
    if (!found) {
      throw new ValidationError("the dataset names a schema the dictionary does not have", [
        { name: "schema", reason: `no schema ${id} version ${version}` },
      ]);
    }
    const properties = Object.keys((found.jsonSchema.properties ?? {}) as object);
    const invalid = [
      ...(JSON.stringify([...dataset.keyFields].sort()) === JSON.stringify([...found.keyFields].sort())
        ? []
        : [{ name: "keyFields", reason: `${id} ${version} identifies records by ${found.keyFields.join(", ")}` }]),
      ...dataset.fields
        .filter((field) => !properties.includes(field.name))
        .map((field) => ({ name: "fields", reason: `${field.name} is not a field of ${id} ${version}` })),
    ];
    if (invalid.length > 0) throw new ValidationError("the dataset does not follow the schema it names", invalid);
  }

  private async checkProvider(input: NewDatasetInput): Promise<void> {
    const found = await this.registry.getSystem(input.providerSystem);
    if (!found) {
      throw new ValidationError("the provider system is not registered", [
        { name: "providerSystem", reason: `no system ${input.providerSystem}` },
      ]);
    }
    if (!found.system.capabilities.includes("provider")) {
      throw new ValidationError("the system does not provide data", [
        { name: "providerSystem", reason: `${input.providerSystem} is not registered with the provider capability` },
      ]);
    }
    if (!input.id.startsWith(`${input.providerSystem}.`)) {
      throw new ValidationError("a dataset id starts with its provider system's id", [
        { name: "id", reason: `must start with ${input.providerSystem}.` },
      ]);
    }
    if (input.methods.includes("request") && !input.methods.includes("integrated") && !found.system.endpoint) {
      throw new ValidationError("request-based sharing needs the provider's endpoint", [
        { name: "methods", reason: `${input.providerSystem} has no endpoint to serve requests` },
      ]);
    }
  }
}

function checkStructure(input: NewDatasetInput): void {
  const names = input.fields.map((field) => field.name);
  const invalid = [
    ...names
      .filter((name, index) => names.indexOf(name) !== index)
      .map((name) => ({ name: "fields", reason: `${name} is declared twice` })),
    ...input.keyFields
      .filter((key) => !names.includes(key))
      .map((key) => ({ name: "keyFields", reason: `${key} is not a declared field` })),
  ];
  if (invalid.length > 0) throw new ValidationError("the dataset's structure is inconsistent", invalid);
  checkMethods(input);
}

function checkMethods(dataset: Pick<Dataset, "methods" | "upstreamPath">): void {
  if (dataset.methods.includes("request") && !dataset.methods.includes("integrated") && !dataset.upstreamPath) {
    throw new ValidationError("request-based sharing needs an upstream path", [
      { name: "upstreamPath", reason: "required when methods include request and not integrated" },
    ]);
  }
}
