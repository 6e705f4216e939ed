import { indicesCatalog, newIndicesInput } from "../domain/oversight/indices.ts";
import {
  audit,
  auditInput,
  auditListQuery,
  auditsQueued,
  complianceQuery,
  complianceReport,
  ranking,
  rankingHead,
  rankingIndices,
  rankingInput,
  selfEvaluationQuery,
} from "../domain/oversight/model.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { named, page, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/* Oversight by the Ministry of Public Security: audits (Art. 14), rankings (Art. 15), compliance (Art. 24). */

/** Served by the oversight API function. */
export const oversightRoutes = routes({
  requestAudits: {
    method: "POST",
    path: "/v1/audits",
    tag: "Oversight",
    summary: "Audit datasets (Art. 14): completeness, validity, timeliness, duplicates, access control",
    description:
      "Queues an audit of one dataset, of an agency's datasets, or (supervisor, operator) of every dataset; they run in the background, and every dataset is also audited daily. An agency audits its own. Each report gives the figures per check, findings by severity, and the data keys of sample offending records.",
    auth: "signed",
    body: named("AuditRequest", auditInput),
    success: {
      status: 202,
      description: "The audits, queued",
      schema: named("AuditsQueued", auditsQueued),
    },
    problems: [...signedProblems, 404],
  },
  listAudits: {
    method: "GET",
    path: "/v1/audits",
    tag: "Oversight",
    summary: "A dataset's audits, newest first; or the latest audit of each dataset in scope",
    auth: "signed",
    query: [auditListQuery, pageQuery],
    success: { status: 200, description: "Audits", schema: named("AuditPage", page(audit)) },
    problems: [...signedProblems, 404],
  },
  getAudit: {
    method: "GET",
    path: "/v1/audits/{auditId}",
    tag: "Oversight",
    summary: "One audit: its state and, once completed, its report",
    auth: "signed",
    success: { status: 200, description: "The audit", schema: named("Audit", audit) },
    problems: [401, 404],
  },
  listRankingIndices: {
    method: "GET",
    path: "/v1/rankings/indices",
    tag: "Oversight",
    summary: "Every published version of the ranking indices: weights, class thresholds, targets (Art. 15.6)",
    description: "Oldest first; `latest` is the version a ranking applies when it names none.",
    auth: "signed",
    success: { status: 200, description: "The indices", schema: named("RankingIndicesCatalog", indicesCatalog) },
    problems: [401],
  },
  publishRankingIndices: {
    method: "POST",
    path: "/v1/rankings/indices",
    tag: "Oversight",
    summary: "Publish a new version of the ranking indices (supervisor; Art. 15.6)",
    description:
      "Weights of the eight criteria (whole numbers summing to 100), class thresholds (A above B), whether lateness makes a database C, and the targets of full marks. A published version is never changed: publish the next one. Rankings name the version they applied; later rankings apply the newest unless they name another.",
    auth: "signed",
    body: named("NewRankingIndices", newIndicesInput),
    success: { status: 201, description: "Published", schema: named("RankingIndexVersion", rankingIndices) },
    problems: [...signedProblems, 409],
  },
  computeRanking: {
    method: "POST",
    path: "/v1/rankings/{year}",
    tag: "Oversight",
    summary: "Rank every registered database for a year, A/B/C on criteria (a)-(h) of Art. 15 (supervisor, operator)",
    description:
      "Computes in the background, from the year's exchange log, the connection dates, the latest audits and the standardisation status, under the given or latest version of the ranking indices; each criterion's score comes with its evidence. Computing again replaces the year's ranking.",
    auth: "signed",
    body: named("RankingRequest", rankingInput),
    success: { status: 202, description: "The ranking, computing", schema: named("RankingHead", rankingHead) },
    problems: [...signedProblems, 409],
  },
  getRanking: {
    method: "GET",
    path: "/v1/rankings/{year}",
    tag: "Oversight",
    summary: "A year's ranking: every database for the supervisor and the operator, an agency's own for it",
    auth: "signed",
    success: { status: 200, description: "The ranking", schema: named("Ranking", ranking) },
    problems: [400, 401, 404],
  },
  requestSelfEvaluation: {
    method: "POST",
    path: "/v1/rankings/{year}/self-evaluation",
    tag: "Oversight",
    summary: "Evaluate the caller's agency's own databases for a year, as the ranking would (Art. 15.7)",
    description:
      "Computed in the background like the official ranking, under the given or latest indices, over the databases the agency manages only. Marked as a self-evaluation and kept apart: it never replaces or changes the official ranking. Evaluating again replaces the agency's previous self-evaluation of that year.",
    auth: "signed",
    body: named("RankingRequest", rankingInput),
    success: { status: 202, description: "The self-evaluation, computing", schema: named("RankingHead", rankingHead) },
    problems: [...signedProblems, 409],
  },
  getSelfEvaluation: {
    method: "GET",
    path: "/v1/rankings/{year}/self-evaluation",
    tag: "Oversight",
    summary: "An agency's self-evaluation of a year: the caller's own, or (supervisor, operator) any agency's",
    auth: "signed",
    query: [selfEvaluationQuery],
    success: { status: 200, description: "The self-evaluation", schema: named("Ranking", ranking) },
    problems: [...signedProblems, 404],
  },
  getCompliance: {
    method: "GET",
    path: "/v1/compliance",
    tag: "Oversight",
    summary: "Compliance report (Art. 12.2c, 21.8, 24): each database standardised and connected, on time or late",
    auth: "signed",
    query: [complianceQuery],
    success: { status: 200, description: "The report", schema: named("ComplianceReport", complianceReport) },
    problems: signedProblems,
  },
});
