import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { createRemoteJWKSet } from "jose";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPush } from "../../agent/sync/receiver.ts";
import { DeliveryStore } from "../../agent/sync/store.ts";
import type { BatchStatus } from "../../client/dscp-client.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import { listenLocally, readBody } from "../../demo/upstream.ts";
import { verifyPlatformToken } from "../../domain/identity/platform-token.ts";
import { bodyDigest, canonicalTarget } from "../../domain/identity/request-token.ts";
import { eventually } from "../runtime/helpers.ts";
import { startPostgres, type TestPostgres } from "../unit/agent/postgres.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorld, publishCitizenSchema, runId, type World } from "./world.ts";

/*
 * The Agent Node's delivery store taking the platform's pushes (Art. 7.2b) into a real PostgreSQL
 * table (PGlite): the push endpoint here verifies the platform's token as demo/consumer.ts does and
 * hands the push to applyPush. Its first push loses its database connection mid-way: nothing of
 * it is kept, the node answers 503, and the platform's redelivery lands every version once.
 */

const { apiUrl, audience } = target();
const run = runId();
const people: Citizen[] = syntheticPopulation(6, 44);
const PATH = "/dscp/deliveries";
const TABLE = "residents_received";
let world: World;
let dataset: string;
let postgres: TestPostgres;
let pool: pg.Pool;
let store: DeliveryStore;
/** The store the first push reaches: its connection is cut after the second record version. */
let cutStore: DeliveryStore;
let server: { url: string; stop: () => Promise<void> };
const answered: number[] = [];

async function startEndpoint(systemId: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const keys = createRemoteJWKSet(new URL(`${apiUrl}v1/platform/keys`));
  const endpoint: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    const url = new URL(request.url ?? "/", "http://node");
    const send = (status: number, value: unknown) => {
      answered.push(status);
      response.writeHead(status, { "Content-Type": "application/json" });
      response.end(JSON.stringify(value));
    };
    if (request.method !== "POST" || url.pathname !== PATH) return send(404, { error: "no such route" });
    try {
      const token = String(request.headers.authorization ?? "").replace(/^Bearer /, "");
      const { payload } = await verifyPlatformToken(token, keys, {
        issuer: audience,
        audience: systemId,
        requiredClaims: ["jti", "htm", "htu", "bdy"],
      });
      if (payload.htm !== "POST" || payload.htu !== canonicalTarget(url.pathname, url.searchParams)) {
        throw new Error("token signed for another request");
      }
      if (payload.bdy !== bodyDigest(body)) throw new Error("body digest mismatch");
    } catch (error) {
      return send(401, { error: (error as Error).message });
    }
    const target = answered.length === 0 ? cutStore : store;
    const answer = await applyPush({ datasetId: dataset, store: target }, JSON.parse(body.toString("utf8")));
    return send(answer.status, answer.body);
  });
  return listenLocally(endpoint);
}

beforeAll(async () => {
  postgres = await startPostgres();
  pool = postgres.pool();
  store = await DeliveryStore.open(pool, TABLE);
  cutStore = await DeliveryStore.open(postgres.poolCutAfter("WITH fresh", 2), TABLE);
  server = await startEndpoint(`C${run}.PORTAL`);
  world = await createWorld({ run, consumerEndpoint: server.url });
  const schema = await publishCitizenSchema(world, run);
  dataset = `${world.provider.systemId}.RESIDENTS`;
  await world.client(world.provider).publishDataset(
    citizensDataset(dataset, world.provider.systemId, {
      methods: ["integrated", "sync"],
      schema: { id: schema.id, version: "1.0.0" },
    }),
  );
  const request = await world.client(world.consumer).requestAccess({
    datasetId: dataset,
    fields: ["personalId", "fullName", "province"],
    purpose: "Keep the provincial resident register in step",
    purposeClass: "state-management",
    methods: ["sync"],
    validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    legalBasis: "Decree, Art. 7.2b",
  });
  await world.client(world.provider).decide(request.id, { decision: "approve", reason: "Within its functions" });
  await world.client(world.consumer).subscribe({ datasetId: dataset, delivery: "push", path: PATH });
});

afterAll(async () => {
  await server?.stop();
  await postgres?.stop();
});

describe("the Agent Node's delivery store taking the platform's pushes (Art. 7.2b)", () => {
  it("keeps nothing of a push cut off mid-way, and every version once after the platform delivers it again", async () => {
    const batchId = `agent-store-${randomUUID()}`;
    const response = await world.client(world.provider).send<BatchStatus>("POST", `/v1/sync/${dataset}/batches`, {
      body: { batchId, operations: people.map((record) => ({ op: "upsert", record })) },
    });
    expect(response.status).toBe(202);

    const batch = await eventually(async () => {
      const status = await world.client(world.provider).getBatch(batchId);
      return status.state === "completed" && status.deliveries.pending === 0 ? status : undefined;
    }, 240);

    expect(answered[0]).toBe(503);
    expect(answered.at(-1)).toBe(200);
    expect(batch.deliveries).toMatchObject({ expected: people.length, delivered: people.length, failed: 0 });
    const applied = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${TABLE}_applied`);
    expect(applied.rows[0]?.n).toBe(people.length);
    for (const citizen of people) {
      expect(await store.get(citizen.personalId)).toEqual({
        version: 1,
        deleted: false,
        record: { personalId: citizen.personalId, fullName: citizen.fullName, province: citizen.province },
      });
    }
  });
});
