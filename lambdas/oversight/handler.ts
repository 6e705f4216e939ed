import { oversightRoutes } from "../../api/oversight.ts";
import { newIndicesInput } from "../../domain/oversight/indices.ts";
import {
  auditInput,
  auditListQuery,
  complianceQuery,
  rankingInput,
  selfEvaluationQuery,
} from "../../domain/oversight/model.ts";
import { ValidationError } from "../../domain/problem.ts";
import { parseInput, parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { accepted, httpHandler, ok } from "../shared/http.ts";
import { dispatch, pagination, pathParameter, queryParameters } from "../shared/routes.ts";
import { oversightService } from "./wiring.ts";

function yearOf(text: string): number {
  if (!/^\d{4}$/.test(text))
    throw new ValidationError("the year must be four digits", [{ name: "year", reason: "must be YYYY" }]);
  return Number(text);
}

/** Oversight (Art. 12-15, 24): audits, the annual ranking of databases, compliance reports. */
export const handler = httpHandler(
  dispatch(oversightRoutes, {
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
  }),
);
