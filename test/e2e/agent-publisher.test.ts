import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Publisher, type SubmitBatch } from "../../agent/sync/publisher.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import type { PublishedDataset } from "../../domain/agent/config.ts";
import { eventually } from "../runtime/helpers.ts";
import { startPostgres, type TestPostgres } from "../unit/agent/postgres.ts";
import { citizensDataset, createWorld, publishCitizenSchema, runId, type World } from "./world.ts";

/*
 * The Agent Node's publisher against the platform itself: changes of a real PostgreSQL table
 * (PGlite) sent as sync batches (Art. 7.2c), read back by a consumer from the integrated database,
 * and a batch sent again after a crash between the platform taking it and the node recording it.
 */

const run = runId();
const people: Citizen[] = syntheticPopulation(8, 33);
const person = (index: number) => people[index] as Citizen;
let world: World;
let dataset: string;
let postgres: TestPostgres;
/** The node's pool on its source database. */
let pool: pg.Pool;
/** The batch ids the platform answered, and whether it had the batch already (200) or took it now (202). */
const answers: Array<{ batchId: string; status: number }> = [];

const provider = () => world.client(world.provider);
const submit: SubmitBatch = async (datasetId, records, batchKey) => {
  const response = await provider().send<{ batchId: string }>("POST", `/v1/sync/${datasetId}/batches`, {
    body: { batchId: batchKey, mode: "incremental", operations: records },
  });
  if (response.status !== 200 && response.status !== 202) {
    throw new Error(`the platform answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
  answers.push({ batchId: response.body.batchId, status: response.status });
  return { batchId: response.body.batchId };
};
const completed = (batchId: string) =>
  eventually(async () => {
    const status = await provider().getBatch(batchId);
    return status.state === "completed" ? status : undefined;
  }, 120);
const read = (key: string) =>
  world
    .client(world.consumer)
    .send<{ record: Record<string, unknown> }>("GET", `/v1/exchange/${dataset}/records/${key}`);

const published = (): PublishedDataset => ({
  datasetId: dataset,
  backend: "population",
  everySeconds: 60,
  source: {
    table: "citizens",
    keyColumn: "personal_id",
    watermarkColumn: "updated_at",
    fields: {
      personalId: "personal_id",
      fullName: "full_name",
      birthDate: "birth_date",
      gender: "gender",
      province: "province",
      ethnicity: "ethnicity",
    },
    tombstoneTable: "citizens_deleted",
  },
});
const publisher = (send: SubmitBatch = submit) =>
  new Publisher({ pool, dataset: published(), submit: send, batchSize: 5 });

beforeAll(async () => {
  postgres = await startPostgres();
  pool = postgres.pool();
  await postgres.db.exec(`
    CREATE TABLE citizens (
      personal_id text PRIMARY KEY, full_name text NOT NULL, birth_date date NOT NULL, gender text NOT NULL,
      province text NOT NULL, ethnicity text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
    CREATE TABLE citizens_deleted (personal_id text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
  `);
  for (const citizen of people) {
    await postgres.db.query(
      "INSERT INTO citizens (personal_id, full_name, birth_date, gender, province, ethnicity) VALUES ($1, $2, $3, $4, $5, $6)",
      [citizen.personalId, citizen.fullName, citizen.birthDate, citizen.gender, citizen.province, citizen.ethnicity],
    );
  }
  world = await createWorld({ run });
  const schema = await publishCitizenSchema(world, run);
  dataset = `${world.provider.systemId}.REGISTER`;
  await provider().publishDataset(
    citizensDataset(dataset, world.provider.systemId, {
      methods: ["integrated", "sync"],
      schema: { id: schema.id, version: "1.0.0" },
    }),
  );
  const request = await world.client(world.consumer).requestAccess({
    datasetId: dataset,
    fields: ["personalId", "fullName", "birthDate", "province"],
    purpose: "Verify residence for household registration",
    purposeClass: "public-service",
    methods: ["integrated"],
    validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    legalBasis: "Decree, Art. 4.1 and 7.2c",
  });
  await provider().decide(request.id, { decision: "approve", reason: "Within its functions" });
});

afterAll(async () => {
  await postgres?.stop();
});

describe("the Agent Node's publisher against the platform (Art. 7.2c)", () => {
  it("sends every row of its table, which a consumer then reads from the integrated database", async () => {
    const node = publisher();

    const first = await node.runOnce();
    const second = await node.runOnce();
    const idle = await node.runOnce();

    expect([first.records, second.records, idle.records]).toEqual([5, 3, 0]);
    for (const batchId of [first.batchId, second.batchId]) {
      expect(await completed(batchId as string)).toMatchObject({ rejected: 0 });
    }
    const answer = await read(person(6).personalId);
    expect(answer.status).toBe(200);
    expect(answer.body.record).toEqual({
      personalId: person(6).personalId,
      fullName: person(6).fullName,
      birthDate: person(6).birthDate,
      province: person(6).province,
    });
  });

  it("sends the same batch again after a crash before it recorded the platform took it, which the platform takes once", async () => {
    await postgres.db.query("UPDATE citizens SET full_name = 'Lê Văn Mới', updated_at = now() WHERE personal_id = $1", [
      person(2).personalId,
    ]);
    await postgres.db.query("DELETE FROM citizens WHERE personal_id = $1", [person(3).personalId]);
    await postgres.db.query("INSERT INTO citizens_deleted (personal_id) VALUES ($1)", [person(3).personalId]);
    const crashing = publisher(async (datasetId, records, batchKey) => {
      await submit(datasetId, records, batchKey);
      throw new Error("the node was killed");
    });

    await expect(crashing.runOnce()).rejects.toThrow("the node was killed");
    const restarted = await publisher().runOnce();

    const [taken, again] = answers.slice(-2);
    expect(again?.batchId).toBe(taken?.batchId);
    expect([taken?.status, again?.status]).toEqual([202, 200]);
    expect(restarted).toMatchObject({ records: 2, batchId: taken?.batchId });
    expect(await completed(taken?.batchId as string)).toMatchObject({ received: 2, applied: 2, rejected: 0 });
    expect((await read(person(2).personalId)).body.record).toMatchObject({ fullName: "Lê Văn Mới" });
    expect((await read(person(3).personalId)).status).toBe(404);
    expect(await publisher().runOnce()).toEqual({ records: 0 });
  });
});
