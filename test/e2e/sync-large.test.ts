import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { syntheticPopulation } from "../../demo/population.ts";
import { eventually } from "../runtime/helpers.ts";
import { citizensDataset, createWorld, publishCitizenSchema, runId, type World } from "./world.ts";

const RECORDS = 100_000;
/** S3 wants parts of at least 5 MiB but the last; the local emulator takes at most 11 MiB a request. */
const PART_BYTES = 8 * 1_048_576;
const run = runId();
let world: World;
let dataset: string;

beforeAll(async () => {
  world = await createWorld({ run });
  const schema = await publishCitizenSchema(world, run);
  dataset = `${world.provider.systemId}.LARGE`;
  await world.client(world.provider).publishDataset(
    citizensDataset(dataset, world.provider.systemId, {
      methods: ["integrated"],
      schema: { id: schema.id, version: "1.0.0" },
    }),
  );
});

/** The largest peak resident size among the local runtime's function processes, in MiB (none against AWS). */
function functionPeakMiB(): number | undefined {
  let peak: number | undefined;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("lambda-worker")) continue;
      const kib = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
      peak = Math.max(peak ?? 0, Math.round(kib / 1024));
    } catch {
      // The process ended while being read.
    }
  }
  return peak;
}

describe("a 100,000-record upload", () => {
  it("is applied in full, in bounded memory", async () => {
    const provider = world.client(world.provider);
    const batchId = `large-${randomUUID()}`;
    const file = Buffer.from(
      syntheticPopulation(RECORDS, 5)
        .map((record) => JSON.stringify({ op: "upsert", record }))
        .join("\n"),
    );
    const parts = Math.ceil(file.length / PART_BYTES);
    const opened = await provider.call<{ upload: { parts: Array<{ partNumber: number; url: string }> } }>(
      "POST",
      `/v1/sync/${dataset}/uploads`,
      { body: { batchId, parts } },
    );
    const etags = [];
    for (const part of opened.upload.parts) {
      const body = file.subarray((part.partNumber - 1) * PART_BYTES, part.partNumber * PART_BYTES);
      const put = await fetch(part.url, { method: "PUT", body });
      expect(put.status).toBe(200);
      etags.push({ partNumber: part.partNumber, etag: String(put.headers.get("etag")) });
    }
    await provider.call("POST", `/v1/sync/batches/${batchId}/complete`, { body: { parts: etags } });
    const batch = await eventually(
      async () => {
        const current = await provider.getBatch(batchId);
        return current.state === "processing" ? undefined : current;
      },
      600,
      1000,
    );

    expect(batch).toMatchObject({ state: "completed", received: RECORDS, applied: RECORDS, rejected: 0 });
    // Streamed into partitions of about 2,000 operations, applied side by side.
    expect(batch.chunks).toBeGreaterThan(10);
    expect(batch.chunksDone).toBe(batch.chunks);
    // Locally the function processes can be measured: far below the file's records held at once.
    const peak = functionPeakMiB();
    if (peak !== undefined) expect(peak).toBeLessThan(320);
  }, 660_000);
});
