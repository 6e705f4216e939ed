import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoBatchStore } from "../../../adapters/dynamodb/batch-store.ts";
import { DynamoIntegratedStore } from "../../../adapters/dynamodb/integrated-store.ts";
import type { Dataset } from "../../../domain/catalog/model.ts";
import type { RecordChange } from "../../../domain/delivery/model.ts";
import type { SchemaVersion } from "../../../domain/dictionary/model.ts";
import { RecordValidator } from "../../../domain/dictionary/validator.ts";
import type { ExchangeEntry } from "../../../domain/exchange/model.ts";
import type { Caller } from "../../../domain/registry/model.ts";
import { ChunkApplication } from "../../../domain/sync/application.ts";
import { Completion } from "../../../domain/sync/completion.ts";
import type { Chunk } from "../../../domain/sync/model.ts";
import { BatchReader } from "../../../domain/sync/status.ts";
import { Submission } from "../../../domain/sync/submission.ts";
import { integratedTable } from "../dynalite-table.ts";
import { citizenSchemaFixture } from "./fixtures.ts";
import { memoryObjects } from "./memory-objects.ts";

/*
 * A batch sent again while it is applied, with a later batch of the dataset in between, on the
 * real stores (dynalite): the chunk queue and the fan-out are in memory, so the test decides
 * when each chunk is applied, and in what order.
 */

let client: DynamoDBClient;
let stop: () => Promise<void>;
const table = "integrated";

const dataset = {
  id: "MPS.POPULATION.REGISTER",
  providerSystem: "MPS.POPULATION",
  managingAgency: "MPS",
  methods: ["integrated", "sync"],
  schema: { id: "MPS.CITIZEN", version: "1.0.0" },
  keyFields: ["personalId"],
} as unknown as Dataset;
/** A dataset of another ministry's system, with the same schema. */
const other = {
  ...dataset,
  id: "MOH.HEALTH.INSURED",
  providerSystem: "MOH.HEALTH",
  managingAgency: "MOH",
} as unknown as Dataset;
const schema = citizenSchemaFixture;
const provider: Caller = {
  systemId: "MPS.POPULATION",
  agencyCode: "MPS",
  roles: [],
  capabilities: ["provider"],
  kid: "k1",
};
const otherProvider: Caller = { ...provider, systemId: "MOH.HEALTH", agencyCode: "MOH" };

beforeAll(async () => {
  ({ client, stop } = await integratedTable(table));
});

afterAll(async () => {
  await stop?.();
});

/** A schema with a number field, which JSON Schema bounds by nothing. */
const amountSchema = {
  ...schema,
  jsonSchema: {
    type: "object",
    properties: { personalId: { type: "string" }, amount: { type: "number" } },
    required: ["personalId"],
    additionalProperties: false,
  },
} as unknown as SchemaVersion;

function world(recordSchema: SchemaVersion = schema) {
  const queued: Chunk[] = [];
  const delivered: RecordChange[] = [];
  const integrated = new DynamoIntegratedStore(client, table);
  const batches = new DynamoBatchStore(client, table);
  const catalog = { getDataset: async (id: string) => [dataset, other].find((known) => known.id === id) };
  const queue = async (chunks: readonly Chunk[]) => {
    queued.push(...chunks);
  };
  const fanOut = async (_batch: unknown, _source: string, changes: readonly RecordChange[]) => {
    delivered.push(...changes);
  };
  const objects = memoryObjects();
  const logged: ExchangeEntry[] = [];
  const completion = new Completion({ batches, integrated, fanOut, leaseWaitMs: 0 });
  const submission = new Submission({
    catalog,
    schemas: async () => recordSchema,
    validator: new RecordValidator(),
    batches,
    queue,
    log: async (entry) => {
      logged.push(entry);
    },
    objects,
    pipeline: async () => {},
    completion,
  });
  const application = new ChunkApplication({ catalog, batches, integrated, completion, fanOut, queue, leaseWaitMs: 0 });
  const reader = new BatchReader({ batches, objects });
  const service = {
    submit: submission.submit.bind(submission),
    applyChunk: application.applyChunk.bind(application),
    status: reader.status.bind(reader),
  };
  const batch = (batchId: string, fullName: string, keys: readonly string[]) => ({
    batchId,
    operations: keys.map((personalId) => ({ op: "upsert", record: { personalId, fullName } })),
  });
  return { service, integrated, queued, delivered, batch, logged };
}

describe("Sync: a batch's log entry", () => {
  it("names the end user and case the submitting system's token named", async () => {
    const { service, batch, logged } = world();

    await service.submit(
      { ...provider, endUser: "Lê Thị Hạnh", caseRef: "DOT-2026/7" },
      dataset.id,
      batch("batch-U-0001", "U", ["301"]),
      "tx-user",
    );

    expect(logged.find((entry) => entry.transactionId === "tx-user")).toMatchObject({
      operation: "sync-batch",
      submittedBy: provider.systemId,
      endUser: "Lê Thị Hạnh",
      caseRef: "DOT-2026/7",
    });
  });
});

describe("Sync: a batch sent again while it is applied", () => {
  it("is not queued again, and once applied after a later batch leaves the later batch's records standing", async () => {
    const { service, integrated, queued, delivered, batch } = world();
    const keys = ["001", "002"];
    await service.submit(provider, dataset.id, batch("batch-A-0001", "A", keys), "tx-1");
    await service.submit(provider, dataset.id, batch("batch-B-0001", "B", keys), "tx-2");
    const [chunkA, chunkB] = queued;

    const resent = await service.submit(provider, dataset.id, batch("batch-A-0001", "A", keys), "tx-3");
    // A provider or SQS delivering A's chunk again after B: each is applied in turn.
    await service.applyChunk(chunkA as Chunk);
    await service.applyChunk(chunkB as Chunk);
    await service.applyChunk(chunkA as Chunk);

    expect(resent.replayed).toBe(true);
    expect(queued).toHaveLength(2);
    for (const key of keys) {
      expect(await integrated.get(dataset.id, key)).toMatchObject({
        version: 2,
        sourceBatch: "batch-B-0001",
        record: { fullName: "B" },
      });
    }
    expect(delivered.map((change) => `${change.key}:v${change.version}`).sort()).toEqual([
      "001:v1",
      "001:v2",
      "002:v1",
      "002:v2",
    ]);
  });

  it("leaves an earlier batch applied after a later one without effect on the later one's records", async () => {
    const { service, integrated, queued, batch } = world();
    await service.submit(provider, dataset.id, batch("batch-C-0001", "C", ["003"]), "tx-4");
    await service.submit(provider, dataset.id, batch("batch-D-0001", "D", ["003"]), "tx-5");
    const [chunkC, chunkD] = queued;

    await service.applyChunk(chunkD as Chunk);
    await service.applyChunk(chunkC as Chunk);

    expect(await integrated.get(dataset.id, "003")).toMatchObject({ version: 1, record: { fullName: "D" } });
    expect(await service.status(provider, "batch-C-0001")).toMatchObject({
      state: "completed",
      applied: 1,
      superseded: 1,
    });
  });

  it("gives the dataset's lease up when a chunk of a finished batch is delivered again", async () => {
    const { service, integrated, queued, batch } = world();
    await service.submit(provider, "MPS.POPULATION.REGISTER", batch("batch-E-0001", "E", ["004"]), "tx-6");
    const [chunk] = queued;
    await service.applyChunk(chunk as Chunk);

    const again = await service.applyChunk(chunk as Chunk);

    expect(again).toBe("applied");
    expect(await integrated.lease(dataset.id, "batch-next", 60_000)).toBe(true);
    await integrated.release(dataset.id, "batch-next");
  });
});

describe("Sync: batch ids are their provider's own", () => {
  it("takes another provider's batch of the same id as a batch of its own, and shows neither to the other", async () => {
    const { service, batch } = world();
    await service.submit(provider, dataset.id, batch("batch-F-0001", "F", ["005"]), "tx-7");

    const theirs = await service.submit(otherProvider, other.id, batch("batch-F-0001", "G", ["005"]), "tx-8");
    const asked = await service.status(otherProvider, "batch-F-0001", provider.systemId).catch((error: Error) => error);
    const absent = await service
      .status(otherProvider, "batch-none-0001", provider.systemId)
      .catch((error: Error) => error);

    expect(theirs).toMatchObject({ replayed: false, batch: { providerSystem: "MOH.HEALTH", datasetId: other.id } });
    expect(await service.status(otherProvider, "batch-F-0001")).toMatchObject({ datasetId: other.id });
    expect(await service.status(provider, "batch-F-0001")).toMatchObject({ datasetId: dataset.id });
    expect(asked).toMatchObject({ status: 404 });
    expect(absent).toMatchObject({ status: 404 });
    // The same answer whether the other provider's batch exists or not.
    expect(String((asked as Error).message).replace("batch-F-0001", "ID")).toBe(
      String((absent as Error).message).replace("batch-none-0001", "ID"),
    );
  });
});

describe("Sync: a number the integrated database cannot hold", () => {
  it("rejects the record holding it, by path, and applies the rest of the batch", async () => {
    const { service, integrated, queued } = world(amountSchema);
    const operations = [
      { op: "upsert", record: { personalId: "101", amount: 1.2345678901234568e29 } },
      { op: "upsert", record: { personalId: "102", amount: 1e-200 } },
      { op: "upsert", record: { personalId: "103", amount: 42.5 } },
    ];

    const { batch } = await service.submit(provider, dataset.id, { batchId: "numbers-0001", operations }, "tx-n");
    for (const chunk of queued) await service.applyChunk(chunk);

    expect(
      batch.rejections.map(({ index, key, errors }) => ({ index, key, paths: errors.map((error) => error.path) })),
    ).toEqual([
      { index: 0, key: "101", paths: ["amount"] },
      { index: 1, key: "102", paths: ["amount"] },
    ]);
    expect(await integrated.get(dataset.id, "103")).toMatchObject({ record: { amount: 42.5 } });
  });
});
