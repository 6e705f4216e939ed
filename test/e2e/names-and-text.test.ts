import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../client/sign.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import type { DemoUpstream } from "../../demo/upstream.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorldWithUpstream, runId, type World } from "./world.ts";

// What callers name and write is data, whatever it is: parameter and header names that every
// JavaScript object inherits, and text beyond the Basic Multilingual Plane, which AWS carries.

const { apiUrl, audience } = target();
const run = runId();
const population: Citizen[] = syntheticPopulation(5, 11);
const someone = population[0] as Citizen;
const NAMES = ["__proto__", "constructor", "toString"];
const PURPOSE = "Kiểm tra cư trú cho học sinh 🏫👩‍🎓 (năm học 2027)";
// U+FFFE and U+FFFF: Unicode noncharacters, which JSON.stringify leaves as they are and SQS refuses.
const NONCHARACTER_PURPOSE = "Kiểm tra cư trú \uFFFE cho học sinh \uFFFF (năm học 2027)";
const startedAt = new Date(Date.now() - 60_000).toISOString();
let upstream: DemoUpstream;
let world: World;
let citizens: string;
let emoji: string;
let nonchar: string;
const attempts: Array<{ transactionId: string; status: number; datasetId: string }> = [];

beforeAll(async () => {
  ({ world, upstream } = await createWorldWithUpstream(run, population));
  citizens = `${world.provider.systemId}.CITIZENS`;
  emoji = `${world.provider.systemId}.PUPILS`;
  nonchar = `${world.provider.systemId}.STUDENTS`;
  const provider = world.client(world.provider);
  for (const datasetId of [citizens, emoji, nonchar]) {
    await provider.publishDataset(citizensDataset(datasetId, world.provider.systemId));
  }
  for (const [datasetId, purpose] of [
    [citizens, "Verify residence"],
    [emoji, PURPOSE],
    [nonchar, NONCHARACTER_PURPOSE],
  ] as const) {
    const request = await world.client(world.consumer).requestAccess({
      datasetId,
      fields: ["personalId", "province"],
      purpose,
      purposeClass: "public-service",
      methods: ["request"],
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      legalBasis: "Decree, Art. 4.1",
    });
    await provider.decide(request.id, { decision: "approve", reason: "Within the portal's functions 👍" });
  }
});

afterAll(async () => {
  await upstream?.stop();
});

/** A GET through node:http with raw headers (fetch's Headers drops one named `__proto__`). */
function rawGet(path: string, headers: string[]): Promise<{ status: number; transactionId: string; body: unknown }> {
  const url = new URL(path.slice(1), apiUrl);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    send(url, { headers: ["Host", url.host, "Accept", "application/json", ...headers] }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          transactionId: String(response.headers["x-transaction-id"]),
          body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "null"),
        }),
      );
    })
      .on("error", reject)
      .end();
  });
}

describe("parameter and header names that JavaScript objects inherit", () => {
  it("are answered like any other name on an exchange", async () => {
    const query = Object.fromEntries(NAMES.map((name) => [name, "1"]));
    const response = await world
      .client(world.consumer)
      .send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`, { query });
    attempts.push({ transactionId: String(response.transactionId), status: response.status, datasetId: citizens });

    expect(Object.keys(query)).toEqual(NAMES);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ record: { personalId: someone.personalId, province: someone.province } });
  });

  it("are answered like any other name as headers of a signed exchange", async () => {
    const path = `/v1/exchange/${citizens}/records/${someone.personalId}`;
    const token = await signRequest(world.consumer, audience, { method: "GET", path });
    const response = await rawGet(path, ["Authorization", `Bearer ${token}`, ...NAMES.flatMap((name) => [name, "x"])]);
    attempts.push({ transactionId: response.transactionId, status: response.status, datasetId: citizens });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ record: { personalId: someone.personalId } });
  });

  it("are refused by name as a query's filter, which is not silently dropped", async () => {
    const response = await world.client(world.consumer).send("POST", `/v1/exchange/${citizens}/query`, {
      body: JSON.parse('{"filters":{"__proto__":"79"}}'),
    });
    attempts.push({ transactionId: String(response.transactionId), status: response.status, datasetId: citizens });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      type: "urn:dscp:problem:validation-failed",
      invalidParams: [{ name: "filters/__proto__", reason: "is not an accepted name" }],
    });
  });

  it("are refused like any other unauthenticated exchange, and the attempt is logged", async () => {
    const query = NAMES.map((name) => `${name}=1`).join("&");
    const response = await rawGet(
      `/v1/exchange/${citizens}/records/${someone.personalId}?${query}`,
      NAMES.flatMap((name) => [name, "x"]),
    );
    attempts.push({ transactionId: response.transactionId, status: response.status, datasetId: citizens });

    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:auth:unauthenticated" });
  });
});

describe("text beyond the Basic Multilingual Plane", () => {
  it("in a permission's purpose lets exchanges under it answer, and reach the log intact", async () => {
    const response = await world
      .client(world.consumer)
      .send("GET", `/v1/exchange/${emoji}/records/${someone.personalId}`);
    attempts.push({ transactionId: String(response.transactionId), status: response.status, datasetId: emoji });

    expect(response.status).toBe(200);
    const entry = (await eventuallyLogged()).find((logged) => logged.transactionId === response.transactionId);
    expect(entry).toMatchObject({ datasetId: emoji, purpose: PURPOSE, outcome: "allowed" });
  });

  it("and the noncharacters U+FFFE and U+FFFF in a purpose let exchanges under it answer, and reach the log intact", async () => {
    const response = await world
      .client(world.consumer)
      .send("GET", `/v1/exchange/${nonchar}/records/${someone.personalId}`);
    attempts.push({ transactionId: String(response.transactionId), status: response.status, datasetId: nonchar });

    expect(response.status).toBe(200);
    const entry = (await eventuallyLogged()).find((logged) => logged.transactionId === response.transactionId);
    expect(entry).toMatchObject({ datasetId: nonchar, purpose: NONCHARACTER_PURPOSE, outcome: "allowed" });
  });
});

describe("the exchange log", () => {
  it("holds every attempt above once, with its status", async () => {
    const entries = await eventuallyLogged();

    for (const made of attempts) {
      const logged = entries.filter((entry) => entry.transactionId === made.transactionId);
      expect(logged, made.transactionId).toHaveLength(1);
      expect(logged[0]).toMatchObject({ status: made.status, datasetId: made.datasetId });
    }
  });
});

type Entry = { transactionId: string; status: number; datasetId: string; purpose?: string; outcome: string };

async function eventuallyLogged(): Promise<Entry[]> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const entries: Entry[] = [];
    let cursor: string | undefined;
    do {
      const page = (await world.client(world.supervisor).call("GET", "/v1/logs", {
        query: { from: startedAt, view: "all", limit: 100, ...(cursor ? { cursor } : {}) },
      })) as { items: Entry[]; nextCursor?: string };
      entries.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    if (attempts.every((made) => entries.some((entry) => entry.transactionId === made.transactionId))) return entries;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error("not every exchange attempt reached the log");
}
