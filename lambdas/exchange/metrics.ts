import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { ExchangeEntry } from "../../domain/exchange/model.ts";

/**
 * An attempt's metrics, added to the invocation's one EMF record (published once, by the
 * middleware): the count under three dimension sets (the service alone, by outcome, by method)
 * and the latency, as the dashboard and alarms read them. The parties are not dimensions, which
 * would make one metric per dataset and consumer: they are in the attempt's log line.
 */
export function addExchangeMetrics(
  metrics: Metrics,
  entry: Pick<ExchangeEntry, "outcome" | "method" | "latencyMs">,
): void {
  metrics.addDimensions({});
  metrics.addDimensions({ outcome: entry.outcome });
  metrics.addDimensions({ method: entry.method });
  metrics.addMetric("exchanges", MetricUnit.Count, 1);
  metrics.addMetric("exchangeLatency", MetricUnit.Milliseconds, entry.latencyMs);
}
