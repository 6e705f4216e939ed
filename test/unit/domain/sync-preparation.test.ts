import { describe, expect, it } from "vitest";
import type { Dataset } from "../../../domain/catalog/model.ts";
import { RecordValidator } from "../../../domain/dictionary/validator.ts";
import type { Batch } from "../../../domain/sync/model.ts";
import { objectKeys } from "../../../domain/sync/objects.ts";
import { Preparation } from "../../../domain/sync/preparation.ts";
import { citizenSchemaFixture } from "./fixtures.ts";
import { memoryObjects } from "./memory-objects.ts";

/* An uploaded batch prepared on in-memory ports: its lines validated once, split by key, rejections reported. */

const dataset = { id: "MPS.POPULATION.REGISTER", keyFields: ["personalId"] } as unknown as Dataset;
const schema = citizenSchemaFixture;
const uploadKey = objectKeys.upload(dataset.id, "upload-0001");
const batch = {
  batchId: "upload-0001",
  datasetId: dataset.id,
  providerSystem: "MPS.POPULATION",
  mode: "incremental",
  schema: { id: schema.id, version: schema.version },
  state: "processing",
  upload: { key: uploadKey },
} as unknown as Batch;

function world(lines: readonly string[]) {
  const objects = memoryObjects();
  objects.stored.set(uploadKey, [...lines]);
  const changes: Array<Partial<Batch>> = [];
  const completed: Batch[] = [];
  const preparation = new Preparation({
    catalog: { getDataset: async () => dataset },
    schemas: async () => schema,
    validator: new RecordValidator(),
    batches: {
      get: async () => batch,
      transition: async (_key, _from, change) => {
        changes.push(change);
        return true;
      },
    },
    objects,
    completion: {
      complete: async (done) => {
        completed.push(done);
        return done;
      },
    },
  });
  return { preparation, objects, changes, completed };
}

const upsert = (personalId: string, fullName: string) =>
  JSON.stringify({ op: "upsert", record: { personalId, fullName } });

describe("Preparation", () => {
  it("writes each valid operation to its key's partition, in order, and counts the rest as rejected", async () => {
    const { preparation, objects, changes } = world([
      `\uFEFF${upsert("001", "An")}`,
      "not json",
      upsert("002", "Bình"),
      "",
      upsert("001", "An (2)"),
    ]);

    const { partitions } = await preparation.prepare("MPS.POPULATION/upload-0001");

    const written = partitions.flatMap((partition) =>
      (objects.stored.get(partition.key) ?? []).map((line) => JSON.parse(line) as { index: number; key: string }),
    );
    expect(partitions.map((partition) => partition.chunk)).toEqual([0]);
    expect(written.map(({ index, key }) => [index, key])).toEqual([
      [0, "001"],
      [2, "002"],
      [3, "001"],
    ]);
    expect(changes).toEqual([
      expect.objectContaining({
        received: 4,
        rejected: 1,
        chunks: 1,
        rejections: [expect.objectContaining({ index: 1 })],
      }),
    ]);
    expect(objects.stored.has(objectKeys.rejectionReport(dataset.id, "upload-0001"))).toBe(false);
  });

  it("keeps every rejection in the batch's report when there are more than the batch lists", async () => {
    const { preparation, objects, changes, completed } = world(Array.from({ length: 201 }, () => "{}"));

    const { partitions } = await preparation.prepare("MPS.POPULATION/upload-0001");

    const report = objects.stored.get(objectKeys.rejectionReport(dataset.id, "upload-0001"));
    expect(partitions).toEqual([]);
    expect(report).toHaveLength(201);
    expect(changes[0]).toMatchObject({
      rejected: 201,
      rejectionReport: objectKeys.rejectionReport(dataset.id, "upload-0001"),
    });
    expect(changes[0]?.rejections).toHaveLength(200);
    expect(completed.map((done) => [done.batchId, done.chunks])).toEqual([["upload-0001", 0]]);
  });
});
