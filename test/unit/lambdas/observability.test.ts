import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { afterEach, describe, expect, it, vi } from "vitest";
import { addExchangeMetrics } from "../../../lambdas/exchange/metrics.ts";
import { QuietMetrics } from "../../../lambdas/shared/observability.ts";

/** Metrics enabled (the unit project disables them), with its warnings and EMF output captured. */
function capturedMetrics() {
  vi.stubEnv("POWERTOOLS_METRICS_DISABLED", "false");
  const warnings: string[] = [];
  const output: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    output.push(String(chunk));
    return true;
  });
  const log = (..._args: unknown[]) => {};
  const metrics = new QuietMetrics({
    namespace: "Test",
    serviceName: "test",
    logger: { debug: log, info: log, error: log, warn: (message: unknown) => warnings.push(String(message)) },
  });
  return { metrics, warnings, output };
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("QuietMetrics", () => {
  it("publishes nothing and warns of nothing after an invocation that recorded no metric", () => {
    const { metrics, warnings, output } = capturedMetrics();

    metrics.publishStoredMetrics();

    expect(warnings).toEqual([]);
    expect(output).toEqual([]);
  });

  it("publishes what an invocation recorded", () => {
    const { metrics, output } = capturedMetrics();

    metrics.addMetric("exchanges", MetricUnit.Count, 1);
    metrics.publishStoredMetrics();

    expect(output.join("")).toContain('"exchanges":1');
  });

  it("forgets the dimensions of an invocation that recorded no metric", () => {
    const { metrics, output } = capturedMetrics();

    metrics.addDimension("outcome", "denied");
    metrics.publishStoredMetrics();
    metrics.addMetric("exchanges", MetricUnit.Count, 1);
    metrics.publishStoredMetrics();

    expect(output.join("")).not.toContain("denied");
  });
});

describe("addExchangeMetrics", () => {
  it("puts an attempt's count and latency in one EMF record, by service, outcome and method", () => {
    const { metrics, output } = capturedMetrics();

    addExchangeMetrics(metrics, { outcome: "allowed", method: "request", latencyMs: 12 });
    metrics.publishStoredMetrics();

    expect(output).toHaveLength(1);
    const record = JSON.parse(output[0] ?? "{}");
    expect(record._aws.CloudWatchMetrics[0].Dimensions).toEqual([
      ["service"],
      ["service", "outcome"],
      ["service", "method"],
    ]);
    expect(record).toMatchObject({ outcome: "allowed", method: "request", exchanges: 1, exchangeLatency: 12 });
  });
});
