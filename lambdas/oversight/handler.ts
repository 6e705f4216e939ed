import { oversightRoutes } from "../../api/oversight.ts";
import { violationRoutes } from "../../api/violations.ts";
import { newIndicesInput } from "../../domain/oversight/indices.ts";
import {
  auditInput,
  auditListQuery,
  complianceQuery,
  rankingInput,
  selfEvaluationQuery,
} from "../../domain/oversight/model.ts";
import {
  answerInput,
  escalateInput,
  newViolationInput,
  resolveInput,
  violationListQuery,
} from "../../domain/oversight/violations.ts";
import { ValidationError } from "../../domain/problem.ts";
import { parseInput, parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { accepted, httpHandler, ok } from "../shared/http.ts";
import { dispatch, pagination, pathParameter, queryParameters } from "../shared/routes.ts";
import { oversightService, violationService } from "./wiring.ts";

function yearOf(text: string): number {
  if (!/^\d{4}$/.test(text))
    throw new ValidationError("the year must be four digits", [{ name: "year", reason: "must be YYYY" }]);
  return Number(text);
}

const servedRoutes = { ...oversightRoutes, ...violationRoutes };

/** Oversight (Art. 12-15, 20.3, 24): audits, the annual ranking of databases, compliance reports, violations. */
export const handler = httpHandler(
  dispatch(servedRoutes, {
    requestAudits: async (event) =>
      accepted(
        oversightService().requestAudits(
          authenticatedCaller(event),
          parseInput(auditInput, parseJsonBody(event.body), "audit request"),
        ),
      ),
    listAudits: async (event) =>
      ok(
        oversightService().audits(
          authenticatedCaller(event),
          queryParameters(event, auditListQuery),
          pagination(event),
        ),
      ),
    getAudit: async (event) =>
      ok(oversightService().audit(authenticatedCaller(event), pathParameter(event, "auditId"))),
    listRankingIndices: async () => ok(oversightService().rankingIndices()),
    publishRankingIndices: async (event) => ({
      status: 201,
      body: await oversightService().publishRankingIndices(
        authenticatedCaller(event),
        parseInput(newIndicesInput, parseJsonBody(event.body), "ranking indices"),
      ),
    }),
    computeRanking: async (event) => {
      const { indices } = parseInput(rankingInput, event.body ? parseJsonBody(event.body) : {}, "ranking request");
      return accepted(
        oversightService().requestRanking(authenticatedCaller(event), yearOf(pathParameter(event, "year")), indices),
      );
    },
    getRanking: async (event) =>
      ok(oversightService().ranking(authenticatedCaller(event), yearOf(pathParameter(event, "year")))),
    requestSelfEvaluation: async (event) => {
      const { indices } = parseInput(rankingInput, event.body ? parseJsonBody(event.body) : {}, "ranking request");
      return accepted(
        oversightService().requestSelfEvaluation(
          authenticatedCaller(event),
          yearOf(pathParameter(event, "year")),
          indices,
        ),
      );
    },
    getSelfEvaluation: async (event) =>
      ok(
        oversightService().selfEvaluation(
          authenticatedCaller(event),
          yearOf(pathParameter(event, "year")),
          queryParameters(event, selfEvaluationQuery).agency,
        ),
      ),
    getCompliance: async (event) =>
      ok(oversightService().compliance(authenticatedCaller(event), queryParameters(event, complianceQuery))),
    openViolation: async (event) => ({
      status: 201,
      body: await violationService().open(
        authenticatedCaller(event),
        parseInput(newViolationInput, parseJsonBody(event.body), "violation case"),
      ),
    }),
    listViolations: async (event) =>
      ok(
        violationService().list(
          authenticatedCaller(event),
          queryParameters(event, violationListQuery),
          pagination(event),
        ),
      ),
    getViolation: async (event) =>
      ok(violationService().get(authenticatedCaller(event), pathParameter(event, "caseId"))),
    answerViolation: async (event) =>
      ok(
        violationService().answer(
          authenticatedCaller(event),
          pathParameter(event, "caseId"),
          parseInput(answerInput, parseJsonBody(event.body), "answer").answer,
        ),
      ),
    resolveViolation: async (event) =>
      ok(
        violationService().resolve(
          authenticatedCaller(event),
          pathParameter(event, "caseId"),
          parseInput(resolveInput, parseJsonBody(event.body), "resolution").reason,
        ),
      ),
    escalateViolation: async (event) => {
      const { reason, dueDate } = parseInput(escalateInput, parseJsonBody(event.body), "escalation");
      return ok(
        violationService().escalate(authenticatedCaller(event), pathParameter(event, "caseId"), reason, dueDate),
      );
    },
  }),
);
