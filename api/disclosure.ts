import {
  connectedDatabases,
  disclosureIndex,
  exchangeFigures,
  figuresQuery,
  formatQuery,
  publicCompliance,
  publicComplianceQuery,
  publicRanking,
} from "../domain/disclosure/model.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { named } from "./responses.ts";
import { routes } from "./route.ts";

/*
 * Public disclosure (Art. 13.1a, 13.4, 15.6, 22.6): what the National Data Portal publishes,
 * for anyone, without a token, cacheable, as JSON pages or whole CSV files. No route here names
 * a consumer system, a data key, a transaction or an end user.
 */

const PUBLIC = {
  public:
    "Public disclosure by design (Art. 13.1a, 13.4, 15.6, 22.6): aggregate figures, the official ranking, the compliance report and connection dates, with no personal data; read-only, cached, behind the WAF and the stage throttle.",
};

/** Served by the disclosure function, which reads and never writes. */
export const disclosureRoutes = routes({
  getDisclosureIndex: {
    method: "GET",
    path: "/v1/public",
    tag: "Public disclosure",
    summary: "What the platform discloses publicly, and where (for the National Data Portal)",
    auth: PUBLIC,
    cacheable: { csv: false },
    success: { status: 200, description: "The resources", schema: named("DisclosureIndex", disclosureIndex) },
    problems: [],
  },
  getPublicRanking: {
    method: "GET",
    path: "/v1/public/rankings/{year}",
    tag: "Public disclosure",
    summary: "A year's published official ranking (Art. 15.6): each database's class, score, criteria and reasons",
    description:
      "The official ranking only, once published; a ranking still computing, failed or never made is not public (404), and self-evaluations never are. Databases by id, a page at a time; `?format=csv` gives one row per database.",
    auth: PUBLIC,
    cacheable: { csv: true },
    query: [formatQuery, pageQuery],
    success: { status: 200, description: "The ranking", schema: named("PublicRanking", publicRanking) },
    problems: [400, 404],
  },
  getPublicCompliance: {
    method: "GET",
    path: "/v1/public/compliance",
    tag: "Public disclosure",
    summary: "The compliance report (Art. 24) per agency: databases standardised and connected, on time or late",
    description: "Agencies a page at a time, each with its databases; `?format=csv` gives one row per database.",
    auth: PUBLIC,
    cacheable: { csv: true },
    query: [publicComplianceQuery, pageQuery],
    success: { status: 200, description: "The report", schema: named("PublicCompliance", publicCompliance) },
    problems: [400],
  },
  listConnectedDatabases: {
    method: "GET",
    path: "/v1/public/connections",
    tag: "Public disclosure",
    summary: "The databases connected through the platform, with the date of their first exchange (Art. 24.3)",
    auth: PUBLIC,
    cacheable: { csv: true },
    query: [formatQuery, pageQuery],
    success: {
      status: 200,
      description: "Connected databases, oldest connection first",
      schema: named("ConnectedDatabases", connectedDatabases),
    },
    problems: [400],
  },
  getExchangeFigures: {
    method: "GET",
    path: "/v1/public/exchange-figures",
    tag: "Public disclosure",
    summary: "Exchange figures of a year or month per agency and dataset (Art. 13.1a): outcomes, latency p50/p95",
    description:
      'Counted from the exchange log by managing agency and dataset, with nothing about consumers. A cell counting 1 to 9 exchanges is "suppressed" (never shown as zero), and so is a second cell wherever the first could be worked out from a total. At most 100,000 entries are read per period (`truncated` says when it held more), a page of the index at a time, holding only a tally and the latencies per cell; figures are kept 5 minutes per execution environment.',
    auth: PUBLIC,
    cacheable: { csv: true },
    query: [figuresQuery, pageQuery],
    success: { status: 200, description: "The figures", schema: named("ExchangeFigures", exchangeFigures) },
    problems: [400],
  },
});
