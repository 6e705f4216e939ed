import { type CatalogStore, type Dataset, dataKeyOf, type SharingMethod } from "../catalog/model.ts";
import type { SchemaVersion } from "../dictionary/model.ts";
import type { RecordCheck, RecordError, RecordValidator } from "../dictionary/validator.ts";
import { recorded } from "../exchange-log/attempt.ts";
import { AccessRefusedError } from "../permissions/errors.ts";
import type { Permission, PermissionStore } from "../permissions/model.ts";
import { pick } from "../permissions/projection.ts";
import { authorizeUse, isForeign } from "../permissions/use-check.ts";
import { DependencyUnavailableError, type InvalidParam, NotFoundError, ProblemError } from "../problem.ts";
import { EndpointNotApprovedError } from "../registry/endpoint-policy.ts";
import type { Caller, RegistryStore } from "../registry/model.ts";
import type { IntegratedStore } from "../sync/model.ts";
import { parseInput } from "../validation.ts";
import { type ExchangeEntry, type ExchangeLog, queryInput, type Upstream, UpstreamFailedError } from "./model.ts";

type Operation = ExchangeEntry["operation"];

interface Attempt {
  dataset?: Dataset;
  permission?: Permission;
  crossBorder: boolean;
  method: "request" | "integrated";
  fieldsReturned: string[];
  recordCount: number;
  invalidRecords: number;
  bytes: number;
}

/**
 * Request-based exchange (Art. 7.2a): the consumer asks, the platform checks who it is and what
 * it may see, fetches from the provider's system with the platform's own signature, returns only
 * permitted fields, and logs the attempt exactly once, whatever its outcome.
 */
export class ExchangeService {
  constructor(
    private readonly deps: {
      readonly catalog: Pick<CatalogStore, "getDataset">;
      readonly registry: Pick<RegistryStore, "getAgency" | "getSystem">;
      /** Read on every attempt: a revocation or expiry takes effect at once. */
      readonly permissions: Pick<PermissionStore, "permissionsOf">;
      readonly upstream: Upstream;
      readonly log: ExchangeLog;
      /** Published schema versions, which datasets' records are validated against (Art. 19). */
      readonly schemas: (id: string, version: string) => Promise<SchemaVersion | undefined>;
      readonly validator: RecordValidator;
      /** The National Integrated Database, for datasets shared through it (7.2c). */
      readonly integrated?: Pick<IntegratedStore, "get" | "query">;
      readonly now?: () => Date;
    },
  ) {}

  /**
   * One record by its data key. `readFields` checks the request and reads the fields asked for
   * inside the attempt, so a refused request is logged too.
   */
  getRecord(
    caller: Caller,
    datasetId: string,
    key: string,
    readFields: () => readonly string[] | undefined,
    transactionId: string,
  ) {
    return this.attempt(caller, datasetId, "get-record", transactionId, async (attempt) => {
      const fields = readFields();
      const { dataset, permission, wanted } = await this.authorize(caller, datasetId, fields, [], attempt);
      if (attempt.method === "integrated") {
        const stored = await this.integrated().get(datasetId, key);
        if (!stored) throw new NotFoundError(`${datasetId} has no record ${key} in the integrated database`);
        const record = pick(stored.record, wanted);
        attempt.bytes = Buffer.byteLength(JSON.stringify(record));
        attempt.fieldsReturned = Object.keys(record);
        attempt.recordCount = 1;
        return { datasetId, key, record };
      }
      const response = await this.call(dataset, permission, transactionId, caller, {
        method: "GET",
        path: `/records/${encodeURIComponent(key)}`,
        query: [["fields", wanted.join(",")]],
      });
      attempt.bytes = response.bytes;
      if (response.status === 404) throw new NotFoundError(`${datasetId} has no record ${key}`);
      const raw = asRecord(response.body);
      const errors = (await this.recordCheck(dataset, wanted))(raw);
      if (errors.length > 0) {
        attempt.invalidRecords = 1;
        throw new UpstreamInvalidDataError(
          `the provider's record ${key} breaks ${dataset.schema?.id} ${dataset.schema?.version} in ${errors.length} way(s)`,
          errors.map((error) => ({ name: error.path, reason: `${error.rule}: ${error.message}` })),
        );
      }
      const record = pick(raw, wanted);
      attempt.fieldsReturned = Object.keys(record);
      attempt.recordCount = 1;
      return { datasetId, key, record };
    });
  }

  /**
   * Records matching equality filters on permitted fields, a page at a time. `readInput` checks
   * and parses the request body inside the attempt, so a tampered or malformed body is logged too.
   */
  query(caller: Caller, datasetId: string, readInput: () => unknown, transactionId: string) {
    return this.attempt(caller, datasetId, "query", transactionId, async (attempt) => {
      const parsed = parseInput(queryInput, readInput(), "query");
      const { dataset, permission, wanted } = await this.authorize(
        caller,
        datasetId,
        parsed.fields,
        Object.keys(parsed.filters),
        attempt,
      );
      if (attempt.method === "integrated") {
        // Records in the integrated database were validated when their batch was applied.
        const page = await this.integrated().query(datasetId, parsed.filters, {
          limit: parsed.limit,
          ...(parsed.cursor ? { cursor: parsed.cursor } : {}),
        });
        const items = page.items.map((stored) => pick(stored.record, wanted));
        attempt.bytes = Buffer.byteLength(JSON.stringify(items));
        attempt.fieldsReturned = [...new Set(items.flatMap((item) => Object.keys(item)))];
        attempt.recordCount = items.length;
        return { datasetId, items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
      }
      const response = await this.call(dataset, permission, transactionId, caller, {
        method: "POST",
        path: "/query",
        body: {
          filters: parsed.filters,
          fields: wanted,
          limit: parsed.limit,
          ...(parsed.cursor ? { cursor: parsed.cursor } : {}),
        },
      });
      attempt.bytes = response.bytes;
      const body = asRecord(response.body);
      if (!Array.isArray(body.items)) throw new UpstreamFailedError("the provider's answer has no items list");
      const check = await this.recordCheck(dataset, wanted);
      const items: Record<string, unknown>[] = [];
      const invalid: Array<{ index: number; key: string; errors: RecordError[] }> = [];
      body.items.forEach((item, index) => {
        const raw = asRecord(item);
        const errors = check(raw);
        // A record that breaks its schema is withheld and reported, never silently dropped or altered.
        if (errors.length > 0) invalid.push({ index, key: dataKeyOf(raw, dataset.keyFields), errors });
        else items.push(pick(raw, wanted));
      });
      attempt.fieldsReturned = [...new Set(items.flatMap((item) => Object.keys(item)))];
      attempt.recordCount = items.length;
      attempt.invalidRecords = invalid.length;
      return {
        datasetId,
        items,
        ...(invalid.length > 0 ? { invalid } : {}),
        ...(typeof body.nextCursor === "string" ? { nextCursor: body.nextCursor } : {}),
      };
    });
  }

  private async authorize(
    caller: Caller,
    datasetId: string,
    fields: readonly string[] | undefined,
    filterFields: readonly string[],
    attempt: Attempt,
  ): Promise<{ dataset: Dataset; permission: Permission; wanted: string[] }> {
    const { catalog, registry, permissions } = this.deps;
    // Independent reads, read at once: the exchange's latency is the slowest, not their sum.
    const [dataset, agency, granted] = await Promise.all([
      catalog.getDataset(datasetId),
      registry.getAgency(caller.agencyCode),
      permissions.permissionsOf(caller.systemId, datasetId),
    ]);
    if (!dataset) throw new NotFoundError(`no dataset ${datasetId} in the catalog`);
    attempt.dataset = dataset;
    if (!caller.capabilities.includes("consumer")) {
      throw new AccessRefusedError("not-a-consumer", `${caller.systemId} is not registered as a consumer`);
    }
    // Without its agency the cross-border rule cannot be applied: refuse rather than assume domestic.
    if (!agency) throw new AccessRefusedError("no-permission", `${caller.agencyCode} is not a registered agency`);
    const consumerAgency = agency;
    attempt.crossBorder = isForeign(consumerAgency);
    // Served from the integrated database (7.2c) when the dataset is shared that way and the
    // consumer may use it; otherwise from the provider's system (7.2a).
    const offersRequest = dataset.methods.includes("request");
    const method: SharingMethod =
      dataset.methods.includes("integrated") &&
      (!offersRequest || granted.some((candidate) => candidate.methods.includes("integrated")))
        ? "integrated"
        : "request";
    attempt.method = method;
    const permission = authorizeUse(granted, {
      consumerSystem: caller.systemId,
      consumerAgency,
      dataset,
      method,
      requestedFields: [...(fields ?? []), ...filterFields],
      now: this.now(),
    });
    attempt.permission = permission;
    return { dataset, permission, wanted: [...(fields ?? permission.fields)] };
  }

  private integrated(): Pick<IntegratedStore, "get" | "query"> {
    if (!this.deps.integrated) throw new DependencyUnavailableError("the integrated database is not connected here");
    return this.deps.integrated;
  }

  /** The check of a dataset's records against its schema version; none when it names no schema. */
  private async recordCheck(dataset: Dataset, present: readonly string[]): Promise<RecordCheck> {
    if (!dataset.schema) return () => [];
    const schema = await this.deps.schemas(dataset.schema.id, dataset.schema.version);
    if (!schema) {
      throw new DependencyUnavailableError(
        `${dataset.id} names ${dataset.schema.id} ${dataset.schema.version}, which the dictionary cannot give`,
      );
    }
    return this.deps.validator.check(schema.jsonSchema, present);
  }

  private async call(
    dataset: Dataset,
    permission: Permission,
    transactionId: string,
    caller: Caller,
    request: { method: "GET" | "POST"; path: string; query?: [string, string][]; body?: unknown },
  ) {
    const provider = await this.deps.registry.getSystem(dataset.providerSystem);
    const endpoint = provider?.system.endpoint;
    if (!endpoint || !dataset.upstreamPath) {
      throw new UpstreamFailedError(`${dataset.providerSystem} has no endpoint serving ${dataset.id}`);
    }
    // Nothing flows to an endpoint before the operator approves it.
    if (provider?.system.endpointStatus !== "approved") {
      throw new EndpointNotApprovedError(
        `the endpoint of ${dataset.providerSystem} awaits the operator's approval: ${dataset.id} cannot be queried yet`,
      );
    }
    return this.deps.upstream({
      providerSystem: dataset.providerSystem,
      endpoint,
      path: `${dataset.upstreamPath}${request.path}`,
      method: request.method,
      ...(request.query ? { query: request.query } : {}),
      ...(request.body !== undefined ? { body: request.body } : {}),
      transactionId,
      consumerSystem: caller.systemId,
      purpose: permission.purpose,
      ...(caller.endUser !== undefined ? { endUser: caller.endUser } : {}),
      ...(caller.caseRef !== undefined ? { caseRef: caller.caseRef } : {}),
    });
  }

  /** Runs one attempt and logs it exactly once, allowed, denied or failed. */
  private async attempt<T>(
    caller: Caller,
    datasetId: string,
    operation: Operation,
    transactionId: string,
    work: (attempt: Attempt) => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    const attempt: Attempt = {
      crossBorder: false,
      method: "request",
      fieldsReturned: [],
      recordCount: 0,
      invalidRecords: 0,
      bytes: 0,
    };
    return recorded(
      this.deps.log,
      () => ({
        transactionId,
        started,
        consumerSystem: caller.systemId,
        consumerAgency: caller.agencyCode,
        ...(caller.endUser !== undefined ? { endUser: caller.endUser } : {}),
        ...(caller.caseRef !== undefined ? { caseRef: caller.caseRef } : {}),
        datasetId,
        operation,
        ...attempt,
      }),
      () => work(attempt),
    );
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new UpstreamFailedError("the provider answered something other than a JSON object");
  }
  return value as Record<string, unknown>;
}

/** The provider answered records that break the dataset's schema. */
export class UpstreamInvalidDataError extends ProblemError {
  constructor(detail: string, invalidParams: readonly InvalidParam[]) {
    super(502, "upstream-invalid-data", "The provider's data breaks its schema", detail, invalidParams);
  }
}
