import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { disclosureRoutes } from "../../api/disclosure.ts";
import { exchangeRoutes } from "../../api/exchange.ts";
import { checkpointPublisherRoutes } from "../../api/logs.ts";
import { oversightRoutes } from "../../api/oversight.ts";
import { pathOf } from "../../api/route.ts";
import { runCli } from "../../cli/dscp.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import type { DemoUpstream } from "../../demo/upstream.ts";
import { legalDate } from "../../domain/dictionary/standardisation.ts";
import type {
  ConnectedDatabases,
  DisclosureIndex,
  ExchangeFigures,
  PublicCompliance,
  PublicRanking,
} from "../../domain/disclosure/model.ts";
import type { Ranking } from "../../domain/oversight/model.ts";
import { eventually, temporaryDir } from "../runtime/helpers.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorldWithUpstream, runId, type World } from "./world.ts";

/*
 * Public disclosure (issue 18, Art. 13.1a, 13.4, 15.6, 22.6): every resource read with no token at
 * all, cacheable (ETag, 304), as CSV too, small cells suppressed, and no trace of who consumed.
 */

const { apiUrl, audience } = target();
const run = runId();
const population: Citizen[] = syntheticPopulation(20, 18);
const year = legalDate(new Date()).slice(0, 4);
const onBehalfOf = { endUser: `Trần Văn Minh ${run}`, caseRef: `HS-${run}/0001` };
let upstream: DemoUpstream;
let world: World;
let busy: string;
let steady: string;
let rare: string;
const transactionIds: string[] = [];
/** Every body this file read from the public routes, to search for what must not be there. */
const bodies: string[] = [];

/** A public route, fetched with no Authorization header at all. */
async function publicly(path: string, headers: Record<string, string> = {}): Promise<Response & { text: string }> {
  const response = await fetch(`${apiUrl}${path.replace(/^\//, "")}`, { headers });
  const text = await response.text();
  bodies.push(text);
  return Object.assign(response, { text });
}

async function exchanges(datasetId: string, count: number) {
  const consumer = world.client(world.consumer);
  for (let index = 0; index < count; index++) {
    const person = population[index % population.length] as Citizen;
    const response = await consumer.sendRoute(exchangeRoutes.getRecord, {
      path: { datasetId, key: person.personalId },
      onBehalfOf,
    });
    expect(response.status).toBe(200);
    transactionIds.push(String(response.transactionId));
  }
}

beforeAll(async () => {
  ({ world, upstream } = await createWorldWithUpstream(run, population));
  const provider = world.client(world.provider);
  busy = `${world.provider.systemId}.CITIZENS`;
  steady = `${world.provider.systemId}.RESIDENTS`;
  rare = `${world.provider.systemId}.RARE`;
  for (const datasetId of [busy, steady, rare]) {
    await provider.publishDataset(citizensDataset(datasetId, world.provider.systemId));
    const request = await world.client(world.consumer).requestAccess({
      datasetId,
      fields: ["personalId", "fullName", "province"],
      purpose: "Verify residence for household registration",
      purposeClass: "public-service",
      methods: ["request"],
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      legalBasis: "Decree, Art. 4.1",
    });
    await provider.decide(request.id, { decision: "approve", reason: "Within the portal's functions" });
  }
  await exchanges(busy, 12);
  await exchanges(steady, 10);
  await exchanges(rare, 3);
  // Every exchange in the log (the appender runs behind the exchanges) before figures are read.
  await eventually(async () => {
    const page = await provider.listLogEntries({ view: "provider", from: `${year}-01-01T00:00:00+07:00`, limit: 100 });
    const logged = new Set(page.items.map((entry) => entry.transactionId));
    return transactionIds.every((id) => logged.has(id)) ? true : undefined;
  }, 240);
  // The official ranking of a past year, published: the public sees it once it is.
  const supervisor = world.client(world.supervisor);
  await supervisor.sendRoute(oversightRoutes.computeRanking, { path: { year: "2025" }, body: {} });
  await eventually(async () => {
    const ranking = await supervisor.invoke<Ranking, typeof oversightRoutes.getRanking.path>(
      oversightRoutes.getRanking,
      { path: { year: "2025" } },
    );
    return ranking.state === "computing" ? undefined : ranking;
  }, 480);
}, 300_000);

afterAll(async () => {
  await upstream?.stop();
});

describe("public disclosure, without a token", () => {
  it("lists every resource with its URL, the log's latest signed checkpoint among them", async () => {
    const response = await publicly(pathOf(disclosureRoutes.getDisclosureIndex));
    const index = JSON.parse(response.text) as DisclosureIndex;

    expect(response.status).toBe(200);
    expect(index.resources.map((resource) => resource.href)).toEqual([
      disclosureRoutes.getPublicRanking.path,
      disclosureRoutes.getPublicCompliance.path,
      disclosureRoutes.listConnectedDatabases.path,
      disclosureRoutes.getExchangeFigures.path,
      checkpointPublisherRoutes.getLatestLogCheckpoint.path,
    ]);
    expect(response.headers.get("cache-control")).toMatch(/^public, max-age=\d+$/);
  });

  it("publishes the official ranking with classes, scores, criteria and reasons, and answers 304 to its ETag", async () => {
    const path = pathOf(disclosureRoutes.getPublicRanking, { year: "2025" });
    const first = await publicly(`${path}?limit=100`);
    const ranking = JSON.parse(first.text) as PublicRanking;
    const etag = first.headers.get("etag");
    const again = await publicly(`${path}?limit=100`, { "If-None-Match": String(etag) });

    expect(first.status).toBe(200);
    expect(ranking).toMatchObject({ year: 2025, kind: "official", indices: expect.any(String) });
    expect(ranking.items.length).toBeGreaterThan(0);
    expect(ranking.items[0]).toMatchObject({
      class: expect.stringMatching(/^[ABC]$/),
      score: expect.any(Number),
      reasons: expect.any(Array),
      criteria: expect.arrayContaining([expect.objectContaining({ criterion: "a", evidence: expect.any(Array) })]),
    });
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(again.status).toBe(304);
    expect(again.text).toBe("");
  });

  it("does not publish a ranking that was never made", async () => {
    const response = await publicly(pathOf(disclosureRoutes.getPublicRanking, { year: "2099" }));

    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
  });

  it("publishes the compliance report of an agency, with each database", async () => {
    const response = await publicly(`${pathOf(disclosureRoutes.getPublicCompliance)}?agency=${world.providerAgency}`);
    const report = JSON.parse(response.text) as PublicCompliance;

    expect(response.status).toBe(200);
    expect(report.items).toHaveLength(1);
    expect(report.items[0]?.databases.map((database) => database.datasetId).sort()).toEqual(
      [busy, rare, steady].sort(),
    );
  });

  it("lists the connected databases with the date of their first exchange", async () => {
    const connected = await eventually(async () => {
      const response = await publicly(`${pathOf(disclosureRoutes.listConnectedDatabases)}?format=csv`);
      return [busy, steady, rare].every((id) => response.text.includes(id)) ? response : undefined;
    }, 60);
    const page = JSON.parse(
      (await publicly(`${pathOf(disclosureRoutes.listConnectedDatabases)}?limit=100`)).text,
    ) as ConnectedDatabases;

    expect(connected.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(connected.text.split("\r\n")[0]).toBe("datasetId,title,managingAgency,mandatory,connectedOn,connectedAt");
    expect(page.connected).toBeGreaterThanOrEqual(3);
    expect(page.items.length + (page.nextCursor ? 1 : 0)).toBeGreaterThan(0);
  });

  it("publishes the year's exchange figures per agency and dataset, a cell of three exchanges suppressed", async () => {
    const path = `${pathOf(disclosureRoutes.getExchangeFigures)}?period=${year}`;
    const figures = JSON.parse((await publicly(`${path}&limit=100`)).text) as ExchangeFigures;
    let rows = figures.items;
    let cursor = figures.nextCursor;
    while (cursor) {
      const next = JSON.parse((await publicly(`${path}&limit=100&cursor=${cursor}`)).text) as ExchangeFigures;
      rows = [...rows, ...next.items];
      cursor = next.nextCursor;
    }
    const row = (datasetId: string) => rows.find((candidate) => candidate.datasetId === datasetId);
    const csv = await publicly(`${path}&format=csv`);
    const rareLine = csv.text.split("\r\n").find((line) => line.includes(rare));

    expect(figures).toMatchObject({ period: year, threshold: 10, truncated: false });
    expect(row(busy)).toMatchObject({ exchanges: 12, allowed: 12, denied: 0, failed: 0 });
    expect(row(busy)?.latencyP95Ms).toEqual(expect.any(Number));
    expect(row(rare)).toMatchObject({ exchanges: "suppressed", allowed: "suppressed", latencyP50Ms: "suppressed" });
    // The agency's total less the busy dataset would give the rare one away: the next smallest goes too.
    expect(row(steady)?.exchanges).toBe("suppressed");
    expect(
      rows.find((candidate) => candidate.level === "agency" && candidate.agency === world.providerAgency),
    ).toMatchObject({
      exchanges: 25,
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-disposition")).toBe(`attachment; filename="dscp-exchange-figures-${year}.csv"`);
    expect(rareLine).toBe(
      `${year},dataset,${world.providerAgency},${rare},suppressed,suppressed,suppressed,suppressed,suppressed,suppressed`,
    );
  });

  it("downloads the ranking and the compliance report as CSV", async () => {
    const ranking = await publicly(`${pathOf(disclosureRoutes.getPublicRanking, { year: "2025" })}?format=csv`);
    const compliance = await publicly(
      `${pathOf(disclosureRoutes.getPublicCompliance)}?format=csv&agency=${world.providerAgency}`,
    );

    expect(ranking.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(ranking.text.split("\r\n")[0]).toBe(
      "year,indices,datasetId,title,managingAgency,mandatory,class,score,criterion_a,criterion_b,criterion_c,criterion_d,criterion_đ,criterion_e,criterion_g,criterion_h,reasons",
    );
    expect(compliance.text.split("\r\n").filter((line) => line.includes(world.providerAgency))).toHaveLength(3);
  });

  it("refuses a bad period or format with a problem naming it", async () => {
    const period = await publicly(`${pathOf(disclosureRoutes.getExchangeFigures)}?period=2026-13`);
    const format = await publicly(`${pathOf(disclosureRoutes.listConnectedDatabases)}?format=xml`);

    expect(period.status).toBe(400);
    expect(period.text).toContain("period");
    expect(format.status).toBe(400);
    expect(format.text).toContain("format");
  });

  it("is read by the CLI without a key: dscp public figures saves the CSV, dscp public ranking prints classes", async () => {
    const folder = temporaryDir("public-disclosure-e2e");
    let out = "";
    const io = {
      stdout: (text: string) => {
        out += text;
      },
      stderr: () => undefined,
      env: { DSCP_API_URL: apiUrl, DSCP_AUDIENCE: audience },
      cwd: folder,
    };
    const saved = await runCli(["public", "figures", "--period", year, "--csv", "figures.csv"], io);
    const printed = await runCli(["public", "ranking", "--year", "2025", "--limit", "5"], io);
    const csv = readFileSync(join(folder, "figures.csv"), "utf8");
    bodies.push(csv, out);

    expect(saved).toBe(0);
    expect(csv).toContain(`${year},dataset,${world.providerAgency},${rare},suppressed`);
    expect(printed).toBe(0);
    expect(out).toMatch(/datasetId\s+managingAgency\s+class\s+score/);
  });

  it("holds no consumer system, transaction, data key or end user in any body it answered", () => {
    const everything = bodies.join("\n");
    const forbidden = [
      world.consumer.systemId,
      world.foreign.systemId,
      world.supervisor.systemId,
      ...transactionIds,
      ...population.map((person) => person.personalId),
      onBehalfOf.endUser,
      onBehalfOf.caseRef,
    ];

    expect(bodies.length).toBeGreaterThan(10);
    expect(transactionIds).toHaveLength(25);
    expect(forbidden.filter((text) => everything.includes(text))).toEqual([]);
  });
});
