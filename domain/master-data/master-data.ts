import * as z from "zod/mini";
import type { CatalogStore } from "../catalog/model.ts";
import { requireAgencyOrAdmin } from "../identity/authorization.ts";
import { ConflictError, type InvalidParam, ProblemError, ValidationError } from "../problem.ts";
import type { Caller } from "../registry/model.ts";
import { parseInput } from "../validation.ts";

/** National master data, or a sector's (Art. 5.1): which level decides who maintains it. */
export const MASTER_DATA_LEVELS = ["national", "sectoral"] as const;

const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

export const newMasterDataInput = z.object({
  code: z
    .string()
    .check(z.regex(/^[A-Z][A-Z0-9_]{1,63}$/, "must be 2-64 upper-case letters, digits or '_', e.g. CITIZEN")),
  name: text(200),
  nameEn: text(200),
  description: z.optional(text(2000)),
  level: z.enum(MASTER_DATA_LEVELS),
  /** For sectoral master data: the sector (health, education, land…). */
  sector: z.optional(text(100)),
  /** The key identifier code (Art. 5.2): the field whose value identifies the item everywhere. */
  keyIdentifier: z.object({
    field: z.string().check(z.regex(/^[a-z][A-Za-z0-9]{0,63}$/, "must be a field name")),
    name: text(200),
  }),
  /** The one reliable source of the item: a dataset of the catalog. */
  sourceDataset: z.string().check(z.minLength(3), z.maxLength(200)),
});

export const masterDataQuery = z.object({
  level: z.optional(z.enum(MASTER_DATA_LEVELS)),
  agency: z.optional(z.string().check(z.regex(/^[A-Z][A-Z0-9]{1,15}$/, "must be an agency code"))),
});

export interface MasterDataItem {
  readonly code: string;
  readonly name: string;
  readonly nameEn: string;
  readonly description?: string;
  readonly level: (typeof MASTER_DATA_LEVELS)[number];
  readonly sector?: string;
  readonly keyIdentifier: { readonly field: string; readonly name: string };
  readonly sourceDataset: string;
  /** The agency that manages the source dataset, and so the item. */
  readonly managingAgency: string;
  readonly registeredBy: string;
  readonly registeredAt: string;
}

export interface MasterDataStore {
  /** Stores the item if its code is free; otherwise returns the item already registered. */
  register(item: MasterDataItem): Promise<MasterDataItem | undefined>;
  list(
    filter: { level?: string; managingAgency?: string },
    page: { limit: number; cursor?: string },
  ): Promise<{ items: MasterDataItem[]; nextCursor?: string }>;
}

/** The item already has its one reliable source (Art. 5.2). */
export class SecondSourceError extends ProblemError {
  constructor(existing: MasterDataItem) {
    super(
      409,
      "master-data:source-exists",
      "The master data item already has its source",
      `${existing.code} is already sourced from ${existing.sourceDataset} (managed by ${existing.managingAgency}); an item has exactly one reliable source`,
      [{ name: "sourceDataset", reason: `already ${existing.sourceDataset}` }],
    );
  }
}

/**
 * The master-data registry (Art. 5-6): each item, national or sectoral, with its key identifier
 * code and exactly one source dataset, registered by the operator or by the agency managing
 * that dataset. The list is public.
 */
export class MasterDataService {
  constructor(
    private readonly store: MasterDataStore,
    private readonly catalog: Pick<CatalogStore, "getDataset">,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async register(caller: Caller, input: unknown): Promise<MasterDataItem> {
    const parsed = parseInput(newMasterDataInput, input, "master data item");
    const dataset = await this.catalog.getDataset(parsed.sourceDataset);
    const invalid: InvalidParam[] = [];
    if (!dataset) invalid.push({ name: "sourceDataset", reason: `no dataset ${parsed.sourceDataset} in the catalog` });
    else if (!dataset.keyFields.includes(parsed.keyIdentifier.field)) {
      invalid.push({
        name: "keyIdentifier/field",
        reason: `${parsed.keyIdentifier.field} is not a key field of ${dataset.id} (${dataset.keyFields.join(", ")})`,
      });
    }
    if (parsed.level === "sectoral" && !parsed.sector) {
      invalid.push({ name: "sector", reason: "sectoral master data names its sector" });
    }
    if (!dataset || invalid.length > 0) throw new ValidationError("the master data item cannot be registered", invalid);
    requireAgencyOrAdmin(caller, dataset.managingAgency, `register master data sourced from ${dataset.id}`);
    const item: MasterDataItem = {
      ...parsed,
      managingAgency: dataset.managingAgency,
      registeredBy: caller.systemId,
      registeredAt: this.now().toISOString(),
    };
    const existing = await this.store.register(item);
    if (existing) {
      if (existing.sourceDataset === item.sourceDataset) {
        throw new ConflictError(`${item.code} is already registered, sourced from ${item.sourceDataset}`);
      }
      throw new SecondSourceError(existing);
    }
    return item;
  }

  list(filter: z.infer<typeof masterDataQuery>, page: { limit: number; cursor?: string }) {
    return this.store.list(
      { ...(filter.level ? { level: filter.level } : {}), ...(filter.agency ? { managingAgency: filter.agency } : {}) },
      page,
    );
  }
}
