import type { APIGatewayProxyEvent } from "aws-lambda";
import { cached } from "../../adapters/cache/ttl-cache.ts";
import { DynamoCatalogStore } from "../../adapters/dynamodb/catalog-store.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoExchangeLogStore } from "../../adapters/dynamodb/exchange-log-store.ts";
import { DynamoOversightStore } from "../../adapters/dynamodb/oversight-store.ts";
import { disclosureRoutes } from "../../api/disclosure.ts";
import { checkpointPublisherRoutes } from "../../api/logs.ts";
import type { Dataset } from "../../domain/catalog/model.ts";
import { type CsvCell, toCsv } from "../../domain/disclosure/csv.ts";
import { DisclosureService, type PeriodFigures, pageOf } from "../../domain/disclosure/disclosure-service.ts";
import { entityTag, matchesEntityTag, PUBLIC_MAX_AGE_SECONDS } from "../../domain/disclosure/http-cache.ts";
import { FIGURE_COLUMNS, figuresQuery, formatQuery, publicComplianceQuery } from "../../domain/disclosure/model.ts";
import { CRITERIA } from "../../domain/oversight/model.ts";
import { allPages } from "../../domain/paging.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { type HttpResult, httpHandler } from "../shared/http.ts";
import { dispatch, pagination, pathParameter, queryParameters } from "../shared/routes.ts";
import { disclosureEnvironment } from "./environment.ts";

const environment = lazyEnvironment(disclosureEnvironment);
let service: DisclosureService | undefined;
let figuresOf: ((period: string) => Promise<PeriodFigures | undefined>) | undefined;

function disclosure(): DisclosureService {
  if (service) return service;
  const env = environment();
  const client = dynamoDbClient();
  const catalog = new DynamoCatalogStore(client, env.REGISTRY_TABLE_NAME);
  const log = new DynamoExchangeLogStore(client, env.LOG_TABLE_NAME);
  const datasets = cached(
    async (_: "all") => {
      const all: Dataset[] = [];
      for await (const dataset of allPages((page) => catalog.listDatasets({}, page), 100)) all.push(dataset);
      return all;
    },
    { ttlMs: keptMs(60_000), maxEntries: 1 },
  );
  service = new DisclosureService({
    rankings: new DynamoOversightStore(client, env.INTEGRATED_TABLE_NAME),
    datasets: async () => (await datasets("all")) ?? [],
    connections: (datasetIds) => log.connections(datasetIds),
    entries: (window) => log.windowEntries(window),
  });
  return service;
}

/**
 * How long an environment keeps what it read: on a deployed stage the given time, so the public
 * cannot make each request a scan; locally nothing, so a change shows at once (as the registry's
 * cache is 0 there).
 */
function keptMs(ms: number): number {
  return environment().DSCP_STAGE === "local" ? 0 : ms;
}

/** A period's figures, kept 5 minutes per execution environment: the public cannot make each request a scan. */
function figures(period: string | undefined): Promise<PeriodFigures | undefined> {
  figuresOf ??= cached((key: string) => disclosure().figures(key === "" ? undefined : key), {
    ttlMs: keptMs(PUBLIC_MAX_AGE_SECONDS * 1000),
    maxEntries: 40,
  });
  return figuresOf(period ?? "");
}

/** A request header by name, whatever its case. */
function headerValue(event: APIGatewayProxyEvent, name: string): string | undefined {
  return Object.entries(event.headers ?? {}).find(([candidate]) => candidate.toLowerCase() === name)?.[1];
}

/**
 * A public, cacheable answer: JSON, or CSV named as a download; with its ETag, and 304 without
 * a body when `If-None-Match` names it.
 */
function cacheable(
  event: APIGatewayProxyEvent,
  representation: { json: unknown } | { csv: string; filename: string },
): HttpResult {
  const text = "json" in representation ? JSON.stringify(representation.json) : representation.csv;
  const tag = entityTag(text);
  const headers = {
    "Cache-Control": `public, max-age=${PUBLIC_MAX_AGE_SECONDS}`,
    ETag: tag,
    Vary: "Accept-Encoding",
    ...("csv" in representation
      ? {
          "Content-Type": "text/csv; charset=utf-8",
          "Content-Disposition": `attachment; filename="${representation.filename}"`,
        }
      : {}),
  };
  if (matchesEntityTag(headerValue(event, "if-none-match"), tag)) return { status: 304, headers };
  return { status: 200, text, headers };
}

function yearOf(event: APIGatewayProxyEvent): number {
  return Number(pathParameter(event, "year"));
}

const csvRequested = (event: APIGatewayProxyEvent) => queryParameters(event, formatQuery).format === "csv";

/** Public disclosure (Art. 13.1a, 13.4, 15.6, 22.6): no token, cacheable, JSON pages or CSV files. */
export const handler = httpHandler(
  dispatch(disclosureRoutes, {
    getDisclosureIndex: async (event) =>
      cacheable(event, {
        json: {
          description:
            "What the Data Sharing and Coordination Platform discloses publicly: JSON pages (limit, cursor) or, with ?format=csv, whole CSV files. No resource names a consumer system, a data key, a transaction or a person; exchange figures suppress cells of fewer than 10 exchanges.",
          resources: [
            {
              id: "ranking",
              title: "Annual ranking of databases, A/B/C, with criteria and reasons (official, published)",
              articles: "15.2, 15.6",
              href: disclosureRoutes.getPublicRanking.path,
              csv: `${disclosureRoutes.getPublicRanking.path}?format=csv`,
            },
            {
              id: "compliance",
              title: "Compliance report per agency: standardisation and connection deadlines",
              articles: "12.2c, 21.8, 24",
              href: disclosureRoutes.getPublicCompliance.path,
              csv: `${disclosureRoutes.getPublicCompliance.path}?format=csv`,
            },
            {
              id: "connections",
              title: "Databases connected through the platform, with their connection date",
              articles: "24.3",
              href: disclosureRoutes.listConnectedDatabases.path,
              csv: `${disclosureRoutes.listConnectedDatabases.path}?format=csv`,
            },
            {
              id: "exchange-figures",
              title: "Exchange figures per agency and dataset for a year or month (?period=YYYY or YYYY-MM)",
              articles: "13.1a, 13.4, 22.6",
              href: disclosureRoutes.getExchangeFigures.path,
              csv: `${disclosureRoutes.getExchangeFigures.path}?format=csv`,
            },
            {
              id: "log-checkpoint",
              title: "The exchange log's latest signed checkpoint (verify with /v1/platform/keys)",
              articles: "13.1a",
              href: checkpointPublisherRoutes.getLatestLogCheckpoint.path,
            },
          ],
        },
      }),
    getPublicRanking: async (event) => {
      const csv = csvRequested(event);
      const page = pagination(event);
      const { databases, ...ranking } = await disclosure().ranking(yearOf(event));
      if (!csv) return cacheable(event, { json: { ...ranking, ...pageOf(databases, page) } });
      const columns = [
        "year",
        "indices",
        "datasetId",
        "title",
        "managingAgency",
        "mandatory",
        "class",
        "score",
        ...CRITERIA.map((criterion) => `criterion_${criterion}`),
        "reasons",
      ];
      const rows = databases.map((database): CsvCell[] => [
        ranking.year,
        ranking.indices,
        database.datasetId,
        database.title,
        database.managingAgency,
        database.mandatory,
        database.class,
        database.score,
        ...CRITERIA.map((criterion) => database.criteria.find((item) => item.criterion === criterion)?.score),
        database.reasons.join("; "),
      ]);
      return cacheable(event, { csv: toCsv(columns, rows), filename: `dscp-ranking-${ranking.year}.csv` });
    },
    getPublicCompliance: async (event) => {
      const { format, agency } = queryParameters(event, publicComplianceQuery);
      const page = pagination(event);
      const { agencies, ...report } = await disclosure().compliance(agency);
      if (format !== "csv") return cacheable(event, { json: { ...report, ...pageOf(agencies, page) } });
      const columns = [
        "asOf",
        "agency",
        "datasetId",
        "mandatory",
        "standardisation",
        "standardisationDeadline",
        "standardisedOn",
        "connection",
        "connectionDeadline",
        "connectedOn",
        "late",
      ];
      const rows = agencies.flatMap((entry) =>
        entry.databases.map((database): CsvCell[] => [
          report.asOf,
          entry.agency,
          database.datasetId,
          database.mandatory,
          database.standardisation,
          database.standardisationDeadline,
          database.standardisedOn,
          database.connection,
          database.connectionDeadline,
          database.connectedOn,
          database.late,
        ]),
      );
      return cacheable(event, {
        csv: toCsv(columns, rows),
        filename: `dscp-compliance${agency ? `-${agency}` : ""}.csv`,
      });
    },
    listConnectedDatabases: async (event) => {
      const csv = csvRequested(event);
      const page = pagination(event);
      const { all, ...counts } = await disclosure().connections();
      if (!csv) return cacheable(event, { json: { ...counts, ...pageOf(all, page) } });
      const columns = ["datasetId", "title", "managingAgency", "mandatory", "connectedOn", "connectedAt"];
      const rows = all.map((item): CsvCell[] => [
        item.datasetId,
        item.title,
        item.managingAgency,
        item.mandatory,
        item.connectedOn,
        item.connectedAt,
      ]);
      return cacheable(event, { csv: toCsv(columns, rows), filename: "dscp-connections.csv" });
    },
    getExchangeFigures: async (event) => {
      const { format, period } = queryParameters(event, figuresQuery);
      const page = pagination(event);
      const found = await figures(period);
      if (!found) throw new Error("figures of a period are always computed");
      const { rows, ...header } = found;
      if (format !== "csv") return cacheable(event, { json: { ...header, ...pageOf(rows, page) } });
      const columns = ["period", ...FIGURE_COLUMNS];
      const csvRows = rows.map((row): CsvCell[] => [header.period, ...FIGURE_COLUMNS.map((column) => row[column])]);
      return cacheable(event, { csv: toCsv(columns, csvRows), filename: `dscp-exchange-figures-${header.period}.csv` });
    },
  }),
);
