import {
  audit,
  auditInput,
  auditListQuery,
  auditsQueued,
  complianceQuery,
  complianceReport,
  ranking,
  rankingHead,
  rankingIndicesList,
  rankingInput,
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
    auth: "signed",
    success: { status: 200, description: "The indices", schema: named("RankingIndices", rankingIndicesList) },
    problems: [401],
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
