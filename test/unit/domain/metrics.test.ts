import { describe, expect, it } from "vitest";
import { summarise } from "../../../domain/exchange-log/metrics.ts";
import { exchangeEntryFixture, streamOf } from "./fixtures.ts";

const entry = exchangeEntryFixture;
const stream = streamOf;

describe("summarise", () => {
  it("counts outcomes, rates, latency percentiles and volume, in total and per operation, dataset and consumer", async () => {
    const entries = [
      ...Array.from({ length: 96 }, (_, index) => entry({ latencyMs: index + 1 })),
      entry({
        outcome: "denied",
        status: 403,
        problemType: "urn:dscp:problem:access:no-permission",
        recordCount: 0,
        bytes: 0,
        latencyMs: 500,
      }),
      entry({
        outcome: "denied",
        status: 403,
        problemType: "urn:dscp:problem:access:no-permission",
        recordCount: 0,
        bytes: 0,
        latencyMs: 600,
      }),
      entry({
        outcome: "failed",
        status: 502,
        problemType: "urn:dscp:problem:upstream-failed",
        recordCount: 0,
        bytes: 0,
        latencyMs: 700,
        consumerSystem: "DN.PORTAL",
      }),
      entry({
        operation: "sync-batch",
        method: "integrated",
        datasetId: "MPS.POPULATION.REGISTER",
        recordCount: 1000,
        bytes: 50_000,
        latencyMs: 800,
      }),
    ];

    const summary = await summarise(stream(entries), {
      from: "2026-11-27T00:00:00.000Z",
      to: "2026-11-28T00:00:00.000Z",
    });

    expect(summary).toMatchObject({
      entries: 100,
      truncated: false,
      outcomes: { allowed: 97, denied: 2, failed: 1 },
      errorRate: 1,
      denialRate: 2,
      latencyMs: { p50: 50, p95: 95, p99: 700, max: 800 },
      records: 1096,
      bytes: 59_600,
    });
    expect(summary.byOperation).toEqual([
      { operation: "get-record", total: 99, allowed: 96, denied: 2, failed: 1, records: 96, bytes: 9600 },
      { operation: "sync-batch", total: 1, allowed: 1, denied: 0, failed: 0, records: 1000, bytes: 50_000 },
    ]);
    expect(summary.byConsumer.map((row) => [row.consumerSystem, row.total])).toEqual([
      ["HCM.PORTAL", 99],
      ["DN.PORTAL", 1],
    ]);
    expect(summary.problems).toEqual([
      { problemType: "urn:dscp:problem:access:no-permission", count: 2 },
      { problemType: "urn:dscp:problem:upstream-failed", count: 1 },
    ]);
  });

  it("summarises an empty window as zeros", async () => {
    const summary = await summarise(stream([]), { from: "a", to: "b" });

    expect(summary).toMatchObject({ entries: 0, errorRate: 0, latencyMs: { p50: 0, p99: 0, max: 0 }, byDataset: [] });
  });
});
