import {
  answerInput,
  escalateInput,
  newViolationInput,
  resolveInput,
  violationCase,
  violationListQuery,
} from "../domain/oversight/violations.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { named, page, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/* Violations and measures (Art. 20.3, 22.5): findings followed up as cases. */

const caseDescription =
  "To an agency other than the one concerned, a case does not exist (404). A step the case's status does not allow is a 409 naming the status.";

/** Served by the oversight API function. */
export const violationRoutes = routes({
  openViolation: {
    method: "POST",
    path: "/v1/violations",
    tag: "Violations",
    summary: "Open a violation case from a finding (supervisor, operator; Art. 20.3, 22.5)",
    description:
      "From an audit's finding (`auditId`, `finding` index), a missed Art. 24 deadline (`datasetId`), a log verification finding (`shard`), a pattern of refused exchanges (`systemId`), or entered by hand; with the article concerned, evidence links, the proposed measure and a due date. Agency, dataset, article and summary are taken from an audit or a dataset when not given. Every missing or invalid field is named.",
    auth: "signed",
    body: named("NewViolationCase", newViolationInput),
    success: { status: 201, description: "The case, open", schema: named("ViolationCase", violationCase) },
    problems: [...signedProblems, 409],
  },
  listViolations: {
    method: "GET",
    path: "/v1/violations",
    tag: "Violations",
    summary: "Violation cases: an agency's own; any agency's or all for the supervisor and the operator",
    description: "Sorted by agency, newest first; a filtered page may hold fewer cases than `limit`.",
    auth: "signed",
    query: [violationListQuery, pageQuery],
    success: { status: 200, description: "Cases", schema: named("ViolationCasePage", page(violationCase)) },
    problems: signedProblems,
  },
  getViolation: {
    method: "GET",
    path: "/v1/violations/{caseId}",
    tag: "Violations",
    summary: "One case with its trail",
    description: caseDescription,
    auth: "signed",
    success: { status: 200, description: "The case", schema: named("ViolationCase", violationCase) },
    problems: [400, 401, 404],
  },
  answerViolation: {
    method: "POST",
    path: "/v1/violations/{caseId}/answer",
    tag: "Violations",
    summary: "The agency concerned answers a case (any of its systems), also once escalated",
    description: caseDescription,
    auth: "signed",
    body: named("ViolationAnswer", answerInput),
    success: { status: 200, description: "The case, answered", schema: named("ViolationCase", violationCase) },
    problems: [...signedProblems, 404, 409],
  },
  resolveViolation: {
    method: "POST",
    path: "/v1/violations/{caseId}/resolve",
    tag: "Violations",
    summary: "Resolve a case, with the reason (supervisor, operator)",
    description: caseDescription,
    auth: "signed",
    body: named("ViolationResolution", resolveInput),
    success: { status: 200, description: "The case, resolved", schema: named("ViolationCase", violationCase) },
    problems: [...signedProblems, 404, 409],
  },
  escalateViolation: {
    method: "POST",
    path: "/v1/violations/{caseId}/escalate",
    tag: "Violations",
    summary: "Escalate a case, with the reason and optionally a new due date (supervisor, operator)",
    description: caseDescription,
    auth: "signed",
    body: named("ViolationEscalation", escalateInput),
    success: { status: 200, description: "The case, escalated", schema: named("ViolationCase", violationCase) },
    problems: [...signedProblems, 404, 409],
  },
});
