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
import { type IndicesCatalog, indicesCatalogOf, type NewIndicesInput, publishedIndices } from "./indices.ts";
import {
  type Audit,
  type AuditInput,
  type AuditsQueued,
  type ComplianceReport,
  durationMs,
  type OversightStore,
  type RankedDatabase,
  type Ranking,
  type RankingIndices,
  STANDARD_AUDIT,
} from "./model.ts";
import { rankDatabase, tallyUsage } from "./ranking.ts";
import { type ViolationCase, withOverdueCases } from "./violations.ts";

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
  /** Queues oversight work: audits by id, rankings by year (and an agency's self-evaluation). */
  readonly queue: (
    work: ReadonlyArray<{ auditId: string } | { rankingYear: number } | { rankingYear: number; agency: string }>,
  ) => Promise<void>;
  /** Violation cases past their due date and not resolved, of one agency or all (Art. 20.3). */
  readonly overdueViolations?: (agency?: string) => Promise<ViolationCase[]>;
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

  /** Every version of the ranking indices, and the one a ranking applies by default. */
  async rankingIndices(): Promise<IndicesCatalog> {
    return indicesCatalogOf(await this.deps.store.storedIndices());
  }

  /** Publishes a new version of the ranking indices (Art. 15.6): the supervisor only, never replacing one. */
  async publishRankingIndices(caller: Caller, input: NewIndicesInput): Promise<RankingIndices> {
    if (!caller.roles.includes("supervisor")) {
      throw new ForbiddenError("only the supervisor (Ministry of Public Security) issues the ranking indices");
    }
    const indices = publishedIndices(input, this.now());
    if (!(await this.deps.store.putIndices(indices))) {
      throw new ConflictError(`ranking indices ${indices.version} are published already: publish the next version`);
    }
    return indices;
  }

  /** Starts computing the ranking of `year` (Art. 15) under the given or latest indices. */
  async requestRanking(caller: Caller, year: number, indices?: string): Promise<Omit<Ranking, "databases">> {
    if (!isOverseer(caller)) {
      throw new ForbiddenError("only the supervisor (Ministry of Public Security) and the operator rank databases");
    }
    return this.startRanking(caller.systemId, year, indices);
  }

  /**
   * Starts an agency's self-evaluation of its own databases for `year` (Art. 15.7): computed
   * like the official ranking, kept apart from it and marked as such.
   */
  async requestSelfEvaluation(caller: Caller, year: number, indices?: string): Promise<Omit<Ranking, "databases">> {
    return this.startRanking(caller.systemId, year, indices, caller.agencyCode);
  }

  /**
   * The yearly ranking (Art. 15): once a year is over, the official ranking of it is computed
   * unless one covering the whole year exists or is under way. Run by the daily schedule.
   */
  async scheduleYearlyRanking(): Promise<Omit<Ranking, "databases"> | undefined> {
    const year = this.now().getUTCFullYear() - 1;
    if (year < 2025) return undefined;
    const current = await this.deps.store.rankingHead(year);
    const wholeYear = legalYearStart(year + 1).getTime() - 1;
    if (current && (current.state === "computing" || Date.parse(current.window.to) >= wholeYear)) return undefined;
    return this.startRanking("schedule", year, undefined);
  }

  private async startRanking(
    requestedBy: string,
    year: number,
    version: string | undefined,
    agency?: string,
  ): Promise<Omit<Ranking, "databases">> {
    const now = this.now();
    if (!Number.isInteger(year) || year < 2025 || year > now.getUTCFullYear()) {
      throw new ValidationError(`a ranking covers a year from 2025 to ${now.getUTCFullYear()}`, [
        { name: "year", reason: `must be 2025-${now.getUTCFullYear()}` },
      ]);
    }
    const catalog = await this.rankingIndices();
    const indices = version ?? catalog.latest;
    if (!catalog.indices.some((item) => item.version === indices)) {
      throw new ValidationError(`no ranking indices ${indices}`, [
        { name: "indices", reason: `must be one of ${catalog.indices.map((item) => item.version).join(", ")}` },
      ]);
    }
    const current = await this.deps.store.rankingHead(year, agency);
    if (current?.state === "computing" && now.getTime() - Date.parse(current.requestedAt) < RANKING_STALE_MS) {
      throw new ConflictError(
        `the ${year} ${agency ? "self-evaluation" : "ranking"} is being computed since ${current.requestedAt}`,
      );
    }
    // The year as Vietnam counts it: the decree's deadlines are dates in Hanoi.
    const end = Math.min(legalYearStart(year + 1).getTime() - 1, now.getTime());
    const head = {
      year,
      ...(agency === undefined ? {} : { agency }),
      indices,
      state: "computing" as const,
      requestedBy,
      requestedAt: now.toISOString(),
      window: { from: legalYearStart(year).toISOString(), to: new Date(end).toISOString() },
      summary: { databases: 0, A: 0, B: 0, C: 0 },
      revision: (current?.revision ?? 0) + 1,
    };
    if (!(await this.deps.store.putRankingHead(head, current?.revision ?? 0))) {
      throw new ConflictError(`the ${year} ranking was requested by someone else at the same moment`);
    }
    await this.deps.queue([agency === undefined ? { rankingYear: year } : { rankingYear: year, agency }]);
    const { revision: _revision, ...visible } = head;
    return { ...visible, kind: agency === undefined ? "official" : "self-evaluation" };
  }

  /**
   * Computes a requested ranking: one pass over the year's log, then each database scored; an
   * agency's self-evaluation scores only the databases it manages.
   */
  async runRanking(year: number, agency?: string): Promise<void> {
    const head = await this.deps.store.rankingHead(year, agency);
    if (head?.state !== "computing") return;
    try {
      const indices = (await this.rankingIndices()).indices.find((item) => item.version === head.indices);
      if (!indices) throw new Error(`no ranking indices ${head.indices}`);
      const datasets = await this.allDatasets(agency === undefined ? {} : { agency });
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
      await this.deps.store.putRankedDatabases(year, ranked, agency);
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
    const found = await this.readRanking(year);
    if (!found) throw new NotFoundError(`no ranking of ${year} has been requested`);
    return {
      ...found,
      databases: isOverseer(caller)
        ? found.databases
        : found.databases.filter((database) => database.managingAgency === caller.agencyCode),
    };
  }

  /** An agency's self-evaluation of `year`: its own, or (supervisor, operator) any agency's. */
  async selfEvaluation(caller: Caller, year: number, agency = caller.agencyCode): Promise<Ranking> {
    if (agency !== caller.agencyCode && !isOverseer(caller)) {
      throw new ForbiddenError(`${caller.agencyCode} may read its own self-evaluations only`);
    }
    const found = await this.readRanking(year, agency);
    if (!found) throw new NotFoundError(`${agency} has not evaluated its databases for ${year}`);
    return found;
  }

  private async readRanking(year: number, agency?: string): Promise<Ranking | undefined> {
    const head = await this.deps.store.rankingHead(year, agency);
    if (!head) return undefined;
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
    const databases = head.state === "computing" ? [] : await this.deps.store.rankedDatabases(year, agency);
    return { ...visible, kind: agency === undefined ? "official" : "self-evaluation", databases };
  }

  /** Standardisation and connection against the Art. 24 deadlines, per agency. */
  async compliance(caller: Caller, query: { agency?: string }): Promise<ComplianceReport> {
    const datasets = await this.datasetsFor(caller, query);
    const connections = await this.deps.connections(datasets.map((dataset) => dataset.id));
    const connectedOn = new Map([...connections].map(([datasetId, at]) => [datasetId, legalDate(at)]));
    const report = complianceReport(datasets, connectedOn, this.now());
    if (!this.deps.overdueViolations) return report;
    const agency = query.agency ?? (isOverseer(caller) ? undefined : caller.agencyCode);
    return withOverdueCases(report, await this.deps.overdueViolations(agency));
  }
}
