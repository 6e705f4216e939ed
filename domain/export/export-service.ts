import { randomUUID } from "node:crypto";
import { type CatalogStore, type Dataset, dataKeyOf } from "../catalog/model.ts";
import type { SchemaVersion } from "../dictionary/model.ts";
import type { RecordValidator } from "../dictionary/validator.ts";
import type { ExchangeLog } from "../exchange/model.ts";
import { recordAttempt } from "../exchange-log/attempt.ts";
import { isAdmin, isOverseer } from "../identity/authorization.ts";
import type { PlatformSigner } from "../identity/platform-token.ts";
import { allPages } from "../paging.ts";
import type { PermissionStore } from "../permissions/model.ts";
import { authorizeUse, isForeign } from "../permissions/use-check.ts";
import { ForbiddenError, NotFoundError, ProblemError } from "../problem.ts";
import type { Caller, RegistryStore } from "../registry/model.ts";
import type { IntegratedStore } from "../sync/model.ts";
import { parseInput } from "../validation.ts";
import { type ExportJob, type ExportRunner, type ExportStore, exportInput, type PackageStore } from "./model.ts";
import { writePackage } from "./package.ts";

/** How long a download link works. */
const DOWNLOAD_SECONDS = 900;
/** Records read from the integrated store a page at a time. */
const PAGE = 1000;

/** The dataset cannot be exported as asked. */
export class ExportRefusedError extends ProblemError {
  constructor(slug: string, detail: string) {
    super(422, `export:${slug}`, "The dataset cannot be exported", detail);
  }
}

/** The job could not write the package (500, logged as failed). */
export class ExportFailedError extends ProblemError {
  constructor(reason: string) {
    super(500, "export-failed", "The export failed", reason);
  }
}

/**
 * Export packages (Art. 7.2d) of datasets held in the integrated database: asked for by a
 * consumer whose permission allows `export` (its permitted fields only), or by the operator for
 * a consumer or under its own mandate; written by a job, downloaded through a short-lived link.
 * Each export is one exchange-log entry: a refused request when refused, the package when done.
 */
export class ExportService {
  constructor(
    private readonly deps: {
      readonly catalog: Pick<CatalogStore, "getDataset">;
      readonly registry: Pick<RegistryStore, "getAgency" | "getSystem">;
      readonly permissions: Pick<PermissionStore, "permissionsOf">;
      readonly schemas: (id: string, version: string) => Promise<SchemaVersion | undefined>;
      readonly exports: ExportStore;
      readonly log: ExchangeLog;
      readonly integrated?: Pick<IntegratedStore, "query">;
      readonly packages?: PackageStore;
      readonly runner?: ExportRunner;
      readonly signer?: PlatformSigner;
      readonly validator?: RecordValidator;
      /** The platform's identity, named in packages. */
      readonly platform?: string;
      readonly now?: () => Date;
    },
  ) {}

  /** Starts an export (202); a refusal is logged and thrown. */
  async start(caller: Caller, input: unknown, transactionId: string): Promise<ExportJob> {
    const started = Date.now();
    let datasetId = "unknown";
    let dataset: Dataset | undefined;
    try {
      const parsed = parseInput(exportInput, input, "export");
      datasetId = parsed.datasetId;
      dataset = await this.deps.catalog.getDataset(parsed.datasetId);
      if (!dataset) throw new NotFoundError(`no dataset ${parsed.datasetId} in the catalog`);
      if (!dataset.methods.includes("export")) {
        throw new ExportRefusedError("method-not-offered", `${dataset.id} is not shared on storage media (Art. 7.2d)`);
      }
      if (!dataset.methods.includes("integrated")) {
        throw new ExportRefusedError(
          "not-integrated",
          `${dataset.id} is not held in the integrated database, which packages are made from`,
        );
      }
      if (!dataset.schema) {
        throw new ExportRefusedError("no-schema", `${dataset.id} names no schema version to package its records with`);
      }
      const terms = await this.terms(caller, dataset, parsed);
      const unknown = [...(parsed.fields ?? []), ...Object.keys(parsed.filter)].filter(
        (field) => !terms.fields.includes(field),
      );
      if (unknown.length > 0) {
        throw new ProblemError(
          403,
          "access:field-not-permitted",
          "Access refused",
          `${unknown.length} field(s) asked for are not exported to ${terms.consumer.system}`,
          unknown.map((name) => ({ name, reason: "not a permitted field" })),
        );
      }
      const job: ExportJob = {
        exportId: `EXP-${randomUUID()}`,
        datasetId: dataset.id,
        format: parsed.format,
        filter: parsed.filter,
        schema: dataset.schema,
        requester: { system: caller.systemId, agency: caller.agencyCode },
        ...terms,
        fields: parsed.fields ?? terms.fields,
        state: "running",
        progress: 0,
        createdAt: this.now().toISOString(),
        transactionId,
      };
      await this.deps.exports.create(job);
      await this.runner()(job.exportId);
      return job;
    } catch (error) {
      await recordAttempt(
        this.deps.log,
        {
          ...exportAttempt(transactionId, started, datasetId, dataset),
          consumerSystem: caller.systemId,
          consumerAgency: caller.agencyCode,
        },
        { error },
      );
      throw error;
    }
  }

  /** An export as it stands, with a download link once completed: its requester's and consumer's agencies, the supervisor, the operator. */
  async status(
    caller: Caller,
    exportId: string,
  ): Promise<ExportJob & { download?: { url: string; expiresAt: string } }> {
    const job = await this.deps.exports.get(exportId);
    if (!job) throw new NotFoundError(`no export ${exportId}`);
    if (
      !isOverseer(caller) &&
      caller.agencyCode !== job.requester.agency &&
      caller.agencyCode !== job.consumer.agency
    ) {
      throw new ForbiddenError(`${exportId} belongs to ${job.requester.agency}`);
    }
    if (job.state !== "completed" || !job.archive || !this.deps.packages) return job;
    const url = await this.deps.packages.presignGet(job.archive.key, DOWNLOAD_SECONDS, `${job.exportId}.tar.gz`);
    return {
      ...job,
      download: { url, expiresAt: new Date(this.now().getTime() + DOWNLOAD_SECONDS * 1000).toISOString() },
    };
  }

  /**
   * Writes the package (the job's task): the dataset's live records matching the filter, read a
   * page at a time from the integrated store, streamed through the package writer into storage.
   * Logged once done, with what it holds.
   */
  async run(exportId: string): Promise<ExportJob> {
    const job = await this.deps.exports.get(exportId);
    if (!job) throw new NotFoundError(`no export ${exportId}`);
    if (job.state !== "running") return job;
    const started = Date.now();
    const dataset = await this.deps.catalog.getDataset(job.datasetId);
    const schema = await this.deps.schemas(job.schema.id, job.schema.version);
    if (!dataset || !schema) throw new ExportRefusedError("no-schema", `${job.datasetId} or its schema is gone`);
    const { integrated, packages, signer, validator } = this.deps;
    if (!integrated || !packages || !signer || !validator) throw new Error("exports are not connected here");
    const key = `exports/${job.datasetId}/${job.exportId}.tar.gz`;
    const target = packages.open(key);
    const { datasetId, filter } = job;
    const store = integrated;
    async function* records() {
      for await (const stored of allPages((page) => store.query(datasetId, filter ?? {}, page), PAGE)) {
        yield stored.record;
      }
    }
    const manifest = await writePackage(
      {
        exportId: job.exportId,
        createdAt: job.createdAt,
        platform: this.deps.platform ?? "dscp",
        dataset: {
          id: dataset.id,
          title: dataset.title,
          managingAgency: dataset.managingAgency,
          providerSystem: dataset.providerSystem,
          classification: dataset.classification,
          keyFields: dataset.keyFields,
        },
        schema: { id: schema.id, version: schema.version, jsonSchema: schema.jsonSchema },
        format: job.format,
        fields: job.fields,
        filter: job.filter,
        requester: job.requester,
        consumer: job.consumer,
        purpose: job.purpose,
        ...(job.purposeClass ? { purposeClass: job.purposeClass } : {}),
        ...(job.permissionId ? { permissionId: job.permissionId } : {}),
        ...(job.legalBasis ? { legalBasis: job.legalBasis } : {}),
      },
      records(),
      target.stream,
      {
        signer,
        validator,
        keyOf: (record) => dataKeyOf(record, dataset.keyFields),
        progress: async (done) => {
          await this.deps.exports.update(job.exportId, { progress: done });
        },
      },
    );
    const stored = await target.done;
    const archive = {
      key,
      bytes: stored.bytes,
      sha256: stored.sha256,
      records: manifest.records.exported,
      withheld: manifest.records.withheld,
      files: manifest.files.length,
    };
    const completedAt = this.now().toISOString();
    await this.deps.exports.update(job.exportId, {
      state: "completed",
      progress: archive.records,
      archive,
      completedAt,
    });
    await recordAttempt(
      this.deps.log,
      {
        ...exportAttempt(job.transactionId, started, job.datasetId, dataset),
        ...jobParties(job),
        permission: {
          ...(job.permissionId ? { id: job.permissionId } : {}),
          purpose: job.purpose,
          ...(job.purposeClass ? { purposeClass: job.purposeClass } : {}),
        },
        fieldsReturned: job.fields,
        recordCount: archive.records,
        invalidRecords: archive.withheld,
        bytes: archive.bytes,
        crossBorder: await this.crossBorder(job.consumer.agency),
      },
      { status: 200 },
    );
    return { ...job, state: "completed", progress: archive.records, archive, completedAt };
  }

  /** The job could not write the package: marked failed, with the reason, and logged. */
  async fail(exportId: string, reason: string): Promise<void> {
    const job = await this.deps.exports.get(exportId);
    if (!job) return;
    const moved = await this.deps.exports.update(exportId, {
      state: "failed",
      failure: reason.slice(0, 1000),
      completedAt: this.now().toISOString(),
    });
    if (!moved) return;
    await recordAttempt(
      this.deps.log,
      { ...exportAttempt(job.transactionId, Date.now(), job.datasetId, undefined), ...jobParties(job) },
      { error: new ExportFailedError(reason) },
    );
  }

  /** Whose permission, which fields, and why: the consumer's permission, or the operator's own mandate. */
  private async terms(
    caller: Caller,
    dataset: Dataset,
    parsed: { fields?: string[]; consumerSystem?: string; purpose?: string; filter: Record<string, unknown> },
  ): Promise<Pick<ExportJob, "consumer" | "purpose" | "purposeClass" | "permissionId" | "legalBasis" | "fields">> {
    if (isAdmin(caller) && !parsed.consumerSystem) {
      if (!parsed.purpose) {
        throw new ProblemError(400, "validation-failed", "Request validation failed", "say why the operator exports", [
          { name: "purpose", reason: "required when the operator exports under its own mandate" },
        ]);
      }
      return {
        consumer: { system: caller.systemId, agency: caller.agencyCode },
        purpose: parsed.purpose,
        legalBasis: "The National Data Center's mandate (Art. 7.2d)",
        fields: dataset.fields.map((field) => field.name),
      };
    }
    const consumerSystem = parsed.consumerSystem ?? caller.systemId;
    if (consumerSystem !== caller.systemId && !isAdmin(caller)) {
      throw new ForbiddenError("a system exports for itself; only the operator exports for another");
    }
    const found = await this.deps.registry.getSystem(consumerSystem);
    if (!found) throw new NotFoundError(`no system ${consumerSystem}`);
    const agency = await this.deps.registry.getAgency(found.system.agencyCode);
    if (!agency) throw new NotFoundError(`no agency ${found.system.agencyCode}`);
    const permission = authorizeUse(await this.deps.permissions.permissionsOf(consumerSystem, dataset.id), {
      consumerSystem,
      consumerAgency: agency,
      dataset,
      method: "export",
      ...(parsed.fields ? { requestedFields: parsed.fields } : {}),
      now: this.now(),
    });
    return {
      consumer: { system: consumerSystem, agency: agency.code },
      purpose: permission.purpose,
      purposeClass: permission.purposeClass,
      permissionId: permission.id,
      legalBasis: permission.legalBasis,
      fields: [...permission.fields],
    };
  }

  private async crossBorder(agencyCode: string): Promise<boolean> {
    const agency = await this.deps.registry.getAgency(agencyCode);
    return agency ? isForeign(agency) : false;
  }

  private runner(): ExportRunner {
    if (!this.deps.runner) throw new Error("the export job is not connected here");
    return this.deps.runner;
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}

/** What every export's log entry holds, whoever it is for and however it ends. */
function exportAttempt(transactionId: string, started: number, datasetId: string, dataset: Dataset | undefined) {
  return {
    transactionId,
    started,
    datasetId,
    ...(dataset ? { dataset } : {}),
    operation: "export",
    method: "export",
  } as const;
}

/** An export job's consumer, and who asked for it. */
function jobParties(job: ExportJob) {
  return {
    consumerSystem: job.consumer.system,
    consumerAgency: job.consumer.agency,
    submittedBy: job.requester.system,
  };
}
