import { randomUUID } from "node:crypto";
import type { CatalogStore, Dataset } from "../catalog/model.ts";
import type { SchemaVersion } from "../dictionary/model.ts";
import { legalDate, legalYearStart } from "../dictionary/standardisation.ts";
import type { RecordValidator } from "../dictionary/validator.ts";
import type { ExchangeEntry } from "../exchange/model.ts";
import { isOverseer } from "../identity/authorization.ts";
import { allPages, type Paged } from "../paging.ts";
import type { Permission } from "../permissions/model.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../problem.ts";
import type { Caller } from "../registry/model.ts";
import type { StoredRecord } from "../sync/model.ts";
import { auditDataset } from "./audit.ts";
import { complianceReport } from "./compliance.ts";
import {
  type Audit,
  type AuditInput,
  type AuditsQueued,
  type ComplianceReport,
  durationMs,
  type OversightStore,
  type RankedDatabase,
  type Ranking,
  STANDARD_AUDIT,
} from "./model.ts";
import { LATEST_INDICES, RANKING_INDICES, rankDatabase, tallyUsage } from "./ranking.ts";

/** Pages a stream of log entries or records is read in. */
const PAGE = 1000;
/** An audit still `running` after this long outlived its worker (15 minutes at most). */
const ABANDONED_MS = 16 * 60_000;
/** A ranking still `computing` after this long is taken to have died, and may be started again. */
const RANKING_STALE_MS = 30 * 60_000;

/** What oversight reads and writes; DynamoDB and SQS in the platform. */
export interface OversightDeps {
  readonly catalog: Pick<CatalogStore, "getDataset" | "listDatasets">;
  readonly schemas: (id: string, version: string) => Promise<SchemaVersion | undefined>;
  readonly validator: Pick<RecordValidator, "check">;
  readonly records: (datasetId: string) => Paged<StoredRecord>;
  /** Every permission on a dataset, revoked ones included. */
  readonly permissions: (dataset: Pick<Dataset, "id" | "managingAgency">) => Paged<Permission>;
  /** Every log entry in a window; with a dataset, its entries only, read from its provider agency's. */
  readonly entries: (window: {
    from: string;
    to: string;
    dataset?: Pick<Dataset, "id" | "managingAgency">;
  }) => Paged<ExchangeEntry>;
  readonly connections: (datasetIds: readonly string[]) => Promise<Map<string, string>>;
  readonly store: OversightStore;
  /** Queues oversight work: audits by id, rankings by year. */
  readonly queue: (work: ReadonlyArray<{ auditId: string } | { rankingYear: number }>) => Promise<void>;
  readonly now?: () => Date;
}

/**
 * Oversight of the platform (Art. 12-15, 24): audits of datasets, the annual ranking of
 * databases and the compliance report. The supervisor (Ministry of Public Security) and the
 * operator oversee every agency; an agency audits, and reads, its own.
 */
export class OversightService {
  constructor(private readonly deps: OversightDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** The datasets a request covers, checked against what the caller (none: the schedule) may oversee. */
  private async datasetsFor(
    caller: Caller | undefined,
    scope: { datasetId?: string; agency?: string },
  ): Promise<Dataset[]> {
    if (!caller) return this.allDatasets({});
    if (scope.datasetId) {
      const dataset = await this.deps.catalog.getDataset(scope.datasetId);
      if (!dataset) throw new NotFoundError(`no dataset ${scope.datasetId}`);
      if (!isOverseer(caller) && dataset.managingAgency !== caller.agencyCode) {
        throw new ForbiddenError(`${caller.systemId} oversees the datasets of ${caller.agencyCode} only`);
      }
      return [dataset];
    }
    const agency = scope.agency ?? (isOverseer(caller) ? undefined : caller.agencyCode);
    if (agency !== caller.agencyCode && !isOverseer(caller)) {
      throw new ForbiddenError(`${caller.systemId} oversees the datasets of ${caller.agencyCode} only`);
    }
    return this.allDatasets(agency ? { agency } : {});
  }

  private async allDatasets(filter: { agency?: string }): Promise<Dataset[]> {
    const datasets: Dataset[] = [];
    for await (const dataset of allPages((page) => this.deps.catalog.listDatasets(filter, page), 100)) {
      datasets.push(dataset);
    }
    return datasets;
  }

  /** Queues an audit of each dataset in scope (Art. 14); they run in the background. */
  async requestAudits(caller: Caller | "schedule", input: AuditInput): Promise<AuditsQueued> {
    const datasets = await this.datasetsFor(caller === "schedule" ? undefined : caller, input);
    const now = this.now();
    const createdAt = now.toISOString();
    const parameters = { staleAfter: input.staleAfter, accessWindow: input.accessWindow };
    // An audit of the same dataset with the same parameters still waiting or running answers the
    // request again: asking twice, or the schedule meeting a request, does not scan twice.
    const since = new Date(now.getTime() - 2 * ABANDONED_MS).toISOString();
    const answered: AuditsQueued["audits"] = [];
    // Ten datasets at a time, each audit queued once written: a crash leaves at most ten unqueued.
    for (let start = 0; start < datasets.length; start += 10) {
      const chunk = datasets.slice(start, start + 10);
      const unfinished = await Promise.all(chunk.map((dataset) => this.deps.store.unfinishedAudit(dataset.id, since)));
      const fresh: Audit[] = [];
      for (const [index, dataset] of chunk.entries()) {
        const pending = unfinished[index];
        if (
          pending &&
          pending.parameters.staleAfter === parameters.staleAfter &&
          pending.parameters.accessWindow === parameters.accessWindow
        ) {
          answered.push({ auditId: pending.auditId, datasetId: dataset.id, state: pending.state });
          continue;
        }
        const audit: Audit = {
          auditId: `AUD-${randomUUID()}`,
          datasetId: dataset.id,
          managingAgency: dataset.managingAgency,
          trigger: caller === "schedule" ? "scheduled" : "on-demand",
          requestedBy: caller === "schedule" ? "schedule" : caller.systemId,
          state: "queued",
          parameters,
          createdAt,
        };
        await this.deps.store.createAudit(audit);
        fresh.push(audit);
        answered.push({ auditId: audit.auditId, datasetId: dataset.id, state: audit.state });
      }
      if (fresh.length > 0) await this.deps.queue(fresh.map(({ auditId }) => ({ auditId })));
    }
    return { audits: answered };
  }

  /** Runs a queued audit; a second delivery of the same message finds it taken and does nothing. */
  async runAudit(auditId: string): Promise<Audit | undefined> {
    const audit = await this.deps.store.getAudit(auditId);
    if (!audit) return undefined;
    // A run that has outlived the worker's time died with it: the redelivered message takes over.
    const abandoned =
      audit.state === "running" && this.now().getTime() - Date.parse(audit.startedAt ?? audit.createdAt) > ABANDONED_MS;
    if (audit.state !== "queued" && !abandoned) return audit;
    const startedAt = this.now().toISOString();
    if (!(await this.deps.store.updateAudit(auditId, audit.state, { state: "running", startedAt }))) return undefined;
    try {
      const dataset = await this.deps.catalog.getDataset(audit.datasetId);
      if (!dataset) throw new Error(`dataset ${audit.datasetId} is gone`);
      const schema = dataset.schema ? await this.deps.schemas(dataset.schema.id, dataset.schema.version) : undefined;
      const now = this.now();
      const held = dataset.methods.includes("integrated") || dataset.methods.includes("sync");
      const permissions: Permission[] = [];
      for await (const permission of allPages(this.deps.permissions(dataset), 100)) permissions.push(permission);
      const from = new Date(now.getTime() - durationMs(audit.parameters.accessWindow)).toISOString();
      const report = await auditDataset({
        dataset,
        ...(schema
          ? { schema: { document: schema.jsonSchema, check: this.deps.validator.check(schema.jsonSchema) } }
          : {}),
        ...(held ? { records: allPages(this.deps.records(dataset.id), PAGE) } : {}),
        permissions,
        entries: allPages(this.deps.entries({ from, to: now.toISOString(), dataset }), PAGE),
        staleAfter: audit.parameters.staleAfter,
        accessWindow: audit.parameters.accessWindow,
        now,
      });
      const completed = { state: "completed" as const, completedAt: this.now().toISOString(), report };
      await this.deps.store.updateAudit(auditId, "running", completed);
      return { ...audit, startedAt, ...completed };
    } catch (error) {
      await this.deps.store.updateAudit(auditId, "running", {
        state: "failed",
        completedAt: this.now().toISOString(),
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  }

  async audit(caller: Caller, auditId: string): Promise<Audit> {
    const audit = await this.deps.store.getAudit(auditId);
    if (!audit || (!isOverseer(caller) && audit.managingAgency !== caller.agencyCode)) {
      throw new NotFoundError(`no audit ${auditId} that ${caller.systemId} may read`);
    }
    return this.asSeen(audit);
  }

  /**
   * An audit still running after two of its worker's lifetimes died with both (its message is
   * dead-lettered by then): it is shown as failed, with why.
   */
  private asSeen(audit: Audit): Audit {
    const since = Date.parse(audit.startedAt ?? audit.createdAt);
    if (audit.state !== "running" || this.now().getTime() - since <= 2 * ABANDONED_MS) return audit;
    return {
      ...audit,
      state: "failed",
      error: `the audit did not finish within two runs of ${ABANDONED_MS / 60_000} minutes; its message is in the oversight dead-letter queue`,
    };
  }

  /**
   * With a dataset: its audits, newest first, a page at a time. Otherwise the latest audit of
   * each dataset in scope (an agency's, or all for the supervisor), without the reports' detail.
   */
  async audits(
    caller: Caller,
    query: { datasetId?: string; agency?: string },
    page: { limit: number; cursor?: string },
  ): Promise<{ items: Audit[]; nextCursor?: string }> {
    const datasets = await this.datasetsFor(caller, query);
    if (query.datasetId) {
      const history = await this.deps.store.audits(query.datasetId, page);
      return { ...history, items: history.items.map((audit) => this.asSeen(audit)) };
    }
    // A page of datasets at a time (the cursor is where the next page starts): a supervisor's
    // listing covers thousands, each with a report.
    const start = page.cursor ? Number.parseInt(Buffer.from(page.cursor, "base64url").toString(), 10) : 0;
    if (!Number.isInteger(start) || start < 0) {
      throw new ValidationError("the cursor is not one this API returned", [{ name: "cursor", reason: "malformed" }]);
    }
    const slice = datasets.slice(start, start + page.limit);
    const latest = await Promise.all(slice.map((dataset) => this.deps.store.latestAudit(dataset.id, "completed")));
    const next = start + page.limit;
    return {
      items: latest.filter((audit): audit is Audit => audit !== undefined),
      ...(next < datasets.length ? { nextCursor: Buffer.from(String(next)).toString("base64url") } : {}),
    };
  }

  /** Starts computing the ranking of `year` (Art. 15) under the given or latest indices. */
  async requestRanking(caller: Caller, year: number, indices = LATEST_INDICES): Promise<Omit<Ranking, "databases">> {
    if (!isOverseer(caller)) {
      throw new ForbiddenError("only the supervisor (Ministry of Public Security) and the operator rank databases");
    }
    const now = this.now();
    if (!Number.isInteger(year) || year < 2025 || year > now.getUTCFullYear()) {
      throw new ValidationError(`a ranking covers a year from 2025 to ${now.getUTCFullYear()}`, [
        { name: "year", reason: `must be 2025-${now.getUTCFullYear()}` },
      ]);
    }
    if (!RANKING_INDICES[indices]) {
      throw new ValidationError(`no ranking indices ${indices}`, [
        { name: "indices", reason: `must be one of ${Object.keys(RANKING_INDICES).join(", ")}` },
      ]);
    }
    const current = await this.deps.store.rankingHead(year);
    if (current?.state === "computing" && now.getTime() - Date.parse(current.requestedAt) < RANKING_STALE_MS) {
      throw new ConflictError(`the ${year} ranking is being computed since ${current.requestedAt}`);
    }
    // The year as Vietnam counts it: the decree's deadlines are dates in Hanoi.
    const end = Math.min(legalYearStart(year + 1).getTime() - 1, now.getTime());
    const head = {
      year,
      indices,
      state: "computing" as const,
      requestedBy: caller.systemId,
      requestedAt: now.toISOString(),
      window: { from: legalYearStart(year).toISOString(), to: new Date(end).toISOString() },
      summary: { databases: 0, A: 0, B: 0, C: 0 },
      revision: (current?.revision ?? 0) + 1,
    };
    if (!(await this.deps.store.putRankingHead(head, current?.revision ?? 0))) {
      throw new ConflictError(`the ${year} ranking was requested by someone else at the same moment`);
    }
    await this.deps.queue([{ rankingYear: year }]);
    const { revision: _revision, ...visible } = head;
    return visible;
  }

  /** Computes a requested ranking: one pass over the year's log, then each database scored. */
  async runRanking(year: number): Promise<void> {
    const head = await this.deps.store.rankingHead(year);
    if (head?.state !== "computing") return;
    try {
      const indices = RANKING_INDICES[head.indices];
      if (!indices) throw new Error(`no ranking indices ${head.indices}`);
      const datasets = await this.allDatasets({});
      const owners = new Map(datasets.map((dataset) => [dataset.id, dataset.managingAgency]));
      const usage = await tallyUsage(allPages(this.deps.entries(head.window), 1000), owners);
      const connections = await this.deps.connections(datasets.map((dataset) => dataset.id));
      const asOf = legalDate(head.window.to);
      const ranked: RankedDatabase[] = [];
      for (const dataset of datasets) {
        // Only audits with the standard parameters count: an agency cannot pick a lenient window.
        const audit = await this.deps.store.latestAudit(dataset.id, "completed", {
          before: `${head.window.to}~`,
          parameters: STANDARD_AUDIT,
        });
        const inYear = audit && audit.createdAt >= head.window.from ? audit : undefined;
        const firstAt = connections.get(dataset.id);
        const connectedOn = firstAt ? legalDate(firstAt) : undefined;
        const datasetUsage = usage.get(dataset.id);
        ranked.push(
          rankDatabase(
            {
              dataset,
              ...(connectedOn ? { connectedOn } : {}),
              ...(datasetUsage ? { usage: datasetUsage } : {}),
              ...(inYear ? { audit: inYear } : {}),
            },
            indices,
            asOf,
          ),
        );
      }
      await this.deps.store.putRankedDatabases(year, ranked);
      const count = (rankClass: string) => ranked.filter((database) => database.class === rankClass).length;
      await this.deps.store.putRankingHead(
        {
          ...head,
          state: "published",
          publishedAt: this.now().toISOString(),
          summary: { databases: ranked.length, A: count("A"), B: count("B"), C: count("C") },
          revision: head.revision + 1,
        },
        head.revision,
      );
    } catch (error) {
      await this.deps.store.putRankingHead(
        {
          ...head,
          state: "failed",
          error: error instanceof Error ? error.message : String(error),
          revision: head.revision + 1,
        },
        head.revision,
      );
      throw error;
    }
  }

  /** A year's ranking: everything for the supervisor and the operator, an agency's own databases for it. */
  async ranking(caller: Caller, year: number): Promise<Ranking> {
    const head = await this.deps.store.rankingHead(year);
    if (!head) throw new NotFoundError(`no ranking of ${year} has been requested`);
    const { revision: _revision, ...current } = head;
    const stale =
      current.state === "computing" && this.now().getTime() - Date.parse(current.requestedAt) > RANKING_STALE_MS;
    const visible = stale
      ? {
          ...current,
          state: "failed" as const,
          error: `the ranking did not finish within ${RANKING_STALE_MS / 60_000} minutes; compute it again`,
        }
      : current;
    const databases = head.state === "computing" ? [] : await this.deps.store.rankedDatabases(year);
    return {
      ...visible,
      databases: isOverseer(caller)
        ? databases
        : databases.filter((database) => database.managingAgency === caller.agencyCode),
    };
  }

  /** Standardisation and connection against the Art. 24 deadlines, per agency. */
  async compliance(caller: Caller, query: { agency?: string }): Promise<ComplianceReport> {
    const datasets = await this.datasetsFor(caller, query);
    const connections = await this.deps.connections(datasets.map((dataset) => dataset.id));
    const connectedOn = new Map([...connections].map(([datasetId, at]) => [datasetId, legalDate(at)]));
    return complianceReport(datasets, connectedOn, this.now());
  }
}
