import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";

/**
 * Powertools Metrics that publishes only when an invocation recorded a metric. Most invocations
 * of most functions record none (a catalog read, a dictionary lookup); Powertools would print
 * "No application metrics to publish" after each of them, a line of log volume on AWS and
 * noise in `npm start`. What such an invocation added (dimensions, metadata) is still cleared.
 */
export class QuietMetrics extends Metrics {
  override publishStoredMetrics(): this {
    if (this.hasStoredMetrics()) return super.publishStoredMetrics();
    this.clearDimensions();
    this.clearMetadata();
    return this;
  }
}

// Module-scope singletons: created once per execution environment, reused while it is warm.
// The tracer lives apart, in tracing.ts: importing the X-Ray SDK installs async hooks on every
// promise of the process, which the functions on the exchange path do without.
// Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE.
export const logger = new Logger();
export const metrics = new QuietMetrics();
