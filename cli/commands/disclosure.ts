import { writeFileSync } from "node:fs";
import { disclosureRoutes } from "../../api/disclosure.ts";
import { FIGURE_COLUMNS } from "../../domain/disclosure/model.ts";
import type { Command } from "../command.ts";
import { UsageError } from "../command.ts";
import { optional, pageOf, paging } from "../options.ts";

const RESOURCES = ["index", "ranking", "compliance", "connections", "figures"] as const;

/** `dscp public <resource>`: what the platform discloses to anyone (Art. 13.1a, 15.6), no key needed. */
export const publicDisclosure: Command = {
  name: "public",
  args: ["resource?"],
  summary:
    "Public disclosure, no key needed: index (default), ranking --year, compliance [--agency], connections, figures [--period YYYY or YYYY-MM]; --csv <file> saves the whole resource as CSV",
  options: {
    year: { type: "string", hint: "the ranking's year" },
    period: { type: "string", hint: "YYYY or YYYY-MM (figures; default: this month)" },
    agency: { type: "string" },
    csv: { type: "string", hint: "save the resource as this CSV file" },
    ...paging,
  },
  async run(context, args, values) {
    const resource = (args[0] ?? "index") as (typeof RESOURCES)[number];
    if (!RESOURCES.includes(resource)) throw new UsageError(`resource must be one of ${RESOURCES.join(", ")}`);
    if (resource === "ranking" && !values.year) throw new UsageError("ranking needs --year YYYY");
    const client = context.client(false);
    const query = {
      ...optional({ period: values.period, agency: values.agency }),
      ...(values.csv ? { format: "csv" } : pageOf(values)),
    };
    const route = {
      index: disclosureRoutes.getDisclosureIndex,
      ranking: disclosureRoutes.getPublicRanking,
      compliance: disclosureRoutes.getPublicCompliance,
      connections: disclosureRoutes.listConnectedDatabases,
      figures: disclosureRoutes.getExchangeFigures,
    }[resource];
    const body = await client.invoke<unknown, string>(route, {
      path: { year: String(values.year ?? "") },
      query: resource === "index" ? {} : query,
    } as never);
    if (values.csv) {
      const path = context.resolve(String(values.csv));
      writeFileSync(path, String(body));
      context.io.stdout(`${resource} saved to ${path}\n`);
      return 0;
    }
    if (context.json || resource === "index") {
      context.print(body);
      return 0;
    }
    const page = body as { items: object[]; nextCursor?: string };
    const columns = {
      ranking: ["datasetId", "managingAgency", "class", "score", "reasons"],
      compliance: ["agency", "datasets", "standardised", "connected", "onTrack"],
      connections: ["datasetId", "managingAgency", "mandatory", "connectedOn"],
      figures: [...FIGURE_COLUMNS],
    }[resource];
    context.table(page, columns);
    return 0;
  },
};
