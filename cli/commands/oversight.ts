import { oversightRoutes } from "../../api/oversight.ts";
import type { Audit, AuditsQueued, ComplianceReport, Ranking } from "../../domain/oversight/model.ts";
import type { Command, Values } from "../command.ts";
import type { Context } from "../context.ts";
import { optional, paging, reportFiles } from "../options.ts";
import type { Bar } from "../reports.ts";
import { until } from "../wait.ts";

/** An audit's scores, as its report names them. */
const SCORE_COLUMNS = ["overall", "completeness", "validity", "timeliness", "uniqueness", "access"] as const;
const AUDIT_COLUMNS = [
  "datasetId",
  "state",
  "completedAt",
  "records",
  ...SCORE_COLUMNS,
  "high",
  "medium",
  "low",
] as const;

/** The supervisor's oversight: audits of datasets (Art. 14), rankings (Art. 15) and compliance (Art. 24). */
export const oversightCommands: readonly Command[] = [
  {
    name: "audit run",
    args: [],
    summary: "Audit datasets (Art. 14): one (--dataset), an agency's (--agency), or every one (supervisor, operator)",
    options: {
      dataset: { type: "string" },
      agency: { type: "string" },
      "stale-after": { type: "string", hint: "ISO 8601 duration; a record older is stale (default P365D)" },
      "access-window": { type: "string", hint: "ISO 8601 duration of log examined (default P90D)" },
      "no-wait": { type: "boolean", hint: "return once the audits are queued" },
      ...reportFiles,
    },
    async run(context, _args, values) {
      const client = context.client();
      const { audits }: AuditsQueued = await client.invoke(oversightRoutes.requestAudits, {
        body: optional({
          datasetId: values.dataset,
          agency: values.agency,
          staleAfter: values["stale-after"],
          accessWindow: values["access-window"],
        }),
      });
      if (values["no-wait"]) {
        context.table({ items: audits }, ["auditId", "datasetId", "state"]);
        return 0;
      }
      const done: Audit[] = [];
      for (const { auditId } of audits) {
        done.push(
          await until(
            async () => {
              const audit: Audit = await client.invoke(oversightRoutes.getAudit, { path: { auditId } });
              return audit.state === "completed" || audit.state === "failed" ? audit : undefined;
            },
            900,
            `audit ${auditId}`,
          ),
        );
      }
      if (done.length === 1 && done[0] && values.csv === undefined && values.chart === undefined) {
        return printAudit(context, done[0]);
      }
      context.report(done.map(auditRow), ["auditId", ...AUDIT_COLUMNS], values, auditChart(done));
      return done.some((audit) => audit.state === "failed") ? 1 : 0;
    },
  },
  {
    name: "audits",
    args: [],
    summary: "The latest audit of each dataset in scope, or (--dataset) every audit of one, with scores and findings",
    options: { dataset: { type: "string" }, agency: { type: "string" }, ...paging, ...reportFiles },
    async run(context, _args, values) {
      const page: { items: Audit[]; nextCursor?: string } = await context.client().invoke(oversightRoutes.listAudits, {
        query: optional({
          datasetId: values.dataset,
          agency: values.agency,
          limit: values.limit,
          cursor: values.cursor,
        }),
      });
      context.report(page.items.map(auditRow), ["auditId", ...AUDIT_COLUMNS], values, auditChart(page.items), page);
      return 0;
    },
  },
  {
    name: "audit show",
    args: ["auditId"],
    summary: "One audit's report: figures per check, and every finding with sample offending keys",
    async run(context, [auditId]) {
      return printAudit(
        context,
        await context.client().invoke(oversightRoutes.getAudit, { path: { auditId: String(auditId) } }),
      );
    },
  },
  {
    name: "ranking compute",
    args: ["year"],
    summary: "Rank every database for a year on criteria (a)-(h) of Art. 15, then print it (supervisor, operator)",
    options: {
      indices: { type: "string", hint: "version of the ranking indices (default: the latest)" },
      ...reportFiles,
    },
    async run(context, [year], values) {
      const ranking = await computeAndWait(context, String(year), values, "official");
      printRanking(context, ranking, values);
      return ranking.state === "published" ? 0 : 1;
    },
  },
  {
    name: "ranking",
    args: ["year"],
    summary: "A year's ranking: each database's class, score and criteria, and why it is not higher",
    options: { ...reportFiles },
    async run(context, [year], values) {
      const ranking: Ranking = await context
        .client()
        .invoke(oversightRoutes.getRanking, { path: { year: String(year) } });
      printRanking(context, ranking, values);
      return ranking.state === "failed" ? 1 : 0;
    },
  },
  {
    name: "ranking indices",
    args: [],
    summary: "Every published version of the ranking indices: weights, class thresholds, targets",
    async run(context) {
      context.print(await context.client().invoke(oversightRoutes.listRankingIndices));
      return 0;
    },
  },
  {
    name: "ranking indices publish",
    args: ["file"],
    summary:
      "Publish a new version of the ranking indices from a JSON file: version, description, weights, classes, lateIsC, targets (supervisor)",
    async run(context, [file]) {
      context.print(
        await context.client().invoke(oversightRoutes.publishRankingIndices, { body: context.readJson(String(file)) }),
      );
      return 0;
    },
  },
  {
    name: "ranking self-evaluate",
    args: ["year"],
    summary: "Evaluate your agency's own databases for a year as the ranking would (Art. 15.7), then print it",
    options: {
      indices: { type: "string", hint: "version of the ranking indices (default: the latest)" },
      ...reportFiles,
    },
    async run(context, [year], values) {
      const evaluation = await computeAndWait(context, String(year), values, "self-evaluation");
      printRanking(context, evaluation, values);
      return evaluation.state === "published" ? 0 : 1;
    },
  },
  {
    name: "ranking self-evaluation",
    args: ["year"],
    summary: "Your agency's self-evaluation of a year (supervisor, operator: --agency any agency's)",
    options: { agency: { type: "string" }, ...reportFiles },
    async run(context, [year], values) {
      const evaluation: Ranking = await context.client().invoke(oversightRoutes.getSelfEvaluation, {
        path: { year: String(year) },
        query: optional({ agency: values.agency }),
      });
      printRanking(context, evaluation, values);
      return evaluation.state === "failed" ? 1 : 0;
    },
  },
  {
    name: "compliance",
    args: [],
    summary: "Each database standardised and connected against the Art. 24 deadlines, late ones named, per agency",
    options: { agency: { type: "string" }, ...reportFiles },
    async run(context, _args, values) {
      const report: ComplianceReport = await context
        .client()
        .invoke(oversightRoutes.getCompliance, { query: optional({ agency: values.agency }) });
      if (context.json) {
        context.print(report);
        return 0;
      }
      context.report(
        report.datasets,
        ["datasetId", "mandatory", "standardisation", "standardisedOn", "connection", "connectedOn", "late"],
        values,
        {
          title: `Databases on track against the Art. 24 deadlines, per agency (${report.asOf.slice(0, 10)})`,
          bars: report.agencies.map((agency) => ({
            label: agency.agency,
            value: Math.round((agency.onTrack / Math.max(1, agency.datasets)) * 1000) / 10,
            tone: agency.late.length > 0 ? "late" : "ok",
            note: `% (${agency.onTrack} of ${agency.datasets})`,
          })),
        },
      );
      context.io.stdout("\n");
      context.table(
        { items: report.agencies.map((agency) => ({ ...agency, late: agency.late.map((entry) => entry.datasetId) })) },
        ["agency", "datasets", "standardised", "connected", "onTrack", "late"],
      );
      for (const agency of report.agencies) {
        for (const late of agency.late) context.io.stdout(`late: ${late.datasetId}: ${late.reasons.join("; ")}\n`);
      }
      return 0;
    },
  },
];

/** How many of an audit's findings have a severity. */
function findingsOf(audit: Audit, severity: string): number | undefined {
  return audit.report?.findings.filter((finding) => finding.severity === severity).length;
}

/** One row per audit: its scores and how many findings of each severity. */
function auditRow(audit: Audit): Record<string, unknown> {
  const report = audit.report;
  return {
    auditId: audit.auditId,
    datasetId: audit.datasetId,
    state: audit.state,
    completedAt: audit.completedAt,
    records: report?.records,
    ...report?.scores,
    high: findingsOf(audit, "high"),
    medium: findingsOf(audit, "medium"),
    low: findingsOf(audit, "low"),
  };
}

/** An audit's report: the scores, then every finding with its sample keys. */
function printAudit(context: Context, audit: Audit): number {
  if (context.json || !audit.report) {
    context.print(audit);
    return audit.state === "failed" ? 1 : 0;
  }
  const { report } = audit;
  context.io.stdout(
    `${audit.auditId} of ${audit.datasetId} (${audit.completedAt}): ${report.records} records${report.held ? "" : " (not held by the platform: access checks only)"}; overall ${report.scores.overall}\n\n`,
  );
  context.table({ items: [{ ...report.scores }] }, SCORE_COLUMNS);
  context.io.stdout("\n");
  // Findings in full, one a line: a table would cut their summaries.
  for (const finding of report.findings) {
    context.io.stdout(
      `${finding.severity.padEnd(6)} ${finding.check.padEnd(12)} ${finding.summary}${finding.keys?.length ? `; keys: ${finding.keys.join(", ")}` : ""}\n`,
    );
  }
  if (report.findings.length === 0) context.io.stdout("no findings\n");
  return 0;
}

function auditChart(audits: readonly Audit[]): { title: string; bars: Bar[] } {
  return {
    title: "Audit scores per dataset (overall, 0-100)",
    bars: audits
      .filter((audit) => audit.report)
      .map((audit) => {
        const high = findingsOf(audit, "high") ?? 0;
        return {
          label: audit.datasetId,
          value: audit.report?.scores.overall ?? 0,
          tone: high > 0 ? "high" : "ok",
          note: high > 0 ? `(${high} high findings)` : "",
        };
      }),
  };
}

/** Asks for a year's official ranking or the caller's self-evaluation, and waits until it is computed. */
async function computeAndWait(context: Context, year: string, values: Values, kind: Ranking["kind"]): Promise<Ranking> {
  const client = context.client();
  const path = { year };
  const [request, read] =
    kind === "official"
      ? [oversightRoutes.computeRanking, oversightRoutes.getRanking]
      : [oversightRoutes.requestSelfEvaluation, oversightRoutes.getSelfEvaluation];
  await client.invoke(request, { path, body: optional({ indices: values.indices }) });
  return until(
    async () => {
      const current: Ranking = await client.invoke(read, { path });
      return current.state === "computing" ? undefined : current;
    },
    900,
    kind === "official" ? `the ${year} ranking` : `the ${year} self-evaluation`,
  );
}

/** A ranking as a table of databases (class, score, each criterion), then why each is not higher. */
function printRanking(context: Context, ranking: Ranking, values: Values): void {
  if (context.json) {
    context.print(ranking);
    return;
  }
  context.io.stdout(
    `${ranking.kind === "self-evaluation" ? `Self-evaluation of ${ranking.agency}, ` : "Ranking "}${ranking.year} (indices ${ranking.indices}): ${ranking.state}${ranking.publishedAt ? ` ${ranking.publishedAt}` : ""}; A ${ranking.summary.A}, B ${ranking.summary.B}, C ${ranking.summary.C} of ${ranking.summary.databases}${ranking.error ? `; error: ${ranking.error}` : ""}\n\n`,
  );
  const criteria = ranking.databases[0]?.criteria.map((entry) => entry.criterion) ?? [];
  const rows = ranking.databases.map((database) => ({
    datasetId: database.datasetId,
    managingAgency: database.managingAgency,
    class: database.class,
    score: database.score,
    ...Object.fromEntries(database.criteria.map((entry) => [entry.criterion, entry.score])),
    reasons: database.reasons,
  }));
  context.report(rows, ["datasetId", "managingAgency", "class", "score", ...criteria], values, {
    title: `Database ranking ${ranking.year} (Art. 15), indices ${ranking.indices}`,
    bars: ranking.databases.map((database) => ({
      label: database.datasetId,
      value: database.score,
      tone: database.class,
      note: database.class,
    })),
  });
  for (const database of ranking.databases) {
    if (database.reasons.length > 0)
      context.io.stdout(`${database.datasetId} is ${database.class}: ${database.reasons.join("; ")}\n`);
  }
}
