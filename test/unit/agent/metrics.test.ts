import { describe, expect, it } from "vitest";
import { createLogger } from "../../../agent/ops/log.ts";
import { AgentMetrics, Counter, Histogram, outcomeOf } from "../../../agent/ops/metrics.ts";

describe("the node's Prometheus metrics", () => {
  it("render a histogram's buckets cumulatively, with +Inf, sum and count", () => {
    const histogram = new Histogram("latency_seconds", "Latency", [0.01, 0.1]);

    histogram.observe({ side: "consumer" }, 0.005);
    histogram.observe({ side: "consumer" }, 0.05);
    histogram.observe({ side: "consumer" }, 3);

    expect(histogram.render().split("\n")).toEqual([
      "# HELP latency_seconds Latency",
      "# TYPE latency_seconds histogram",
      'latency_seconds_bucket{side="consumer",le="0.01"} 1',
      'latency_seconds_bucket{side="consumer",le="0.1"} 2',
      'latency_seconds_bucket{side="consumer",le="+Inf"} 3',
      'latency_seconds_sum{side="consumer"} 3.055',
      'latency_seconds_count{side="consumer"} 3',
    ]);
  });

  it("escape label values", () => {
    const counter = new Counter("errors_total", "Errors");

    counter.inc({ backend: 'a"b\\c' });

    expect(counter.render()).toContain('errors_total{backend="a\\"b\\\\c"} 1');
  });

  it("name each request's outcome by its status", () => {
    expect([200, 304, 400, 401, 403, 404, 413, 500, 502, 503, 504].map(outcomeOf)).toEqual([
      "ok",
      "ok",
      "bad_request",
      "unauthenticated",
      "forbidden",
      "not_found",
      "bad_request",
      "error",
      "bad_gateway",
      "unavailable",
      "timeout",
    ]);
  });

  it("end with a newline, as the text format asks", () => {
    expect(new AgentMetrics().render().endsWith("\n")).toBe(true);
  });
});

describe("the node's JSON logs", () => {
  it("write one JSON line per event at the configured level and above", () => {
    const lines: string[] = [];
    const logger = createLogger(
      "info",
      (line) => lines.push(line),
      () => new Date("2026-11-30T08:00:00Z"),
    );

    logger.debug("hidden");
    logger.info("request", { side: "consumer", status: 200 });

    expect(lines).toEqual([
      '{"time":"2026-11-30T08:00:00.000Z","level":"info","msg":"request","side":"consumer","status":200}\n',
    ]);
  });
});
