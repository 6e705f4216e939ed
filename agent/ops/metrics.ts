/*
 * The node's metrics in the Prometheus text format (version 0.0.4), with no dependency: a few
 * counters and one latency histogram, kept in memory and rendered on `GET /metrics`.
 */

type Labels = Readonly<Record<string, string>>;

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(
    ([name, value]) => `${name}="${value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`,
  );
  return pairs.length > 0 ? `{${pairs.join(",")}}` : "";
}

/** A monotonically increasing count per label set. */
export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const held = this.values.get(key);
    if (held) held.value += by;
    else this.values.set(key, { labels, value: by });
  }

  /** The count for exactly these labels (0 when never counted). */
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join("\n");
  }
}

/** A value that goes up and down. */
export class Gauge {
  private value = 0;

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  set(value: number): void {
    this.value = value;
  }

  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.value}`].join("\n");
  }
}

/** Observations in cumulative buckets (seconds), per label set. */
export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ) {}

  observe(labels: Labels, value: number): void {
    const key = labelText(labels);
    let held = this.series.get(key);
    if (!held) {
      held = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, held);
    }
    for (const [index, bound] of this.buckets.entries()) {
      if (value <= bound) held.counts[index] = (held.counts[index] ?? 0) + 1;
    }
    held.sum += value;
    held.count += 1;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      this.buckets.forEach((bound, index) => {
        lines.push(`${this.name}_bucket${labelText({ ...labels, le: String(bound) })} ${counts[index]}`);
      });
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${sum}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines.join("\n");
  }
}

/** Which side of the node served a request. */
export type Side = "consumer" | "provider" | "delivery";

/** How a request ended, by its status. */
export function outcomeOf(status: number): string {
  if (status < 400) return "ok";
  if (status === 401) return "unauthenticated";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status < 500) return "bad_request";
  if (status === 502) return "bad_gateway";
  if (status === 503) return "unavailable";
  if (status === 504) return "timeout";
  return "error";
}

/** Every metric the node keeps. */
export class AgentMetrics {
  readonly requests = new Counter("dscp_agent_requests_total", "Requests served, by side and outcome");
  readonly latency = new Histogram("dscp_agent_request_duration_seconds", "Time to answer a request, by side");
  readonly deliveriesApplied = new Counter(
    "dscp_agent_deliveries_applied_total",
    "Delivered record versions applied to the local store (duplicates and stale versions by result)",
  );
  readonly backendErrors = new Counter("dscp_agent_backend_errors_total", "Backend calls that failed, by backend");
  readonly refusedPlatformCalls = new Counter(
    "dscp_agent_refused_platform_calls_total",
    "Calls to the provider side refused: forged (signature, audience, request binding) or replayed",
  );
  readonly configRevision = new Gauge("dscp_agent_config_revision", "Revision of the central configuration applied");
  readonly configRejected = new Counter(
    "dscp_agent_config_rejected_total",
    "Central configurations that failed verification or validation and were not applied",
  );

  /** Counts one answered request and its latency. */
  request(side: Side, status: number, seconds: number): void {
    this.requests.inc({ side, outcome: outcomeOf(status) });
    this.latency.observe({ side }, seconds);
  }

  render(): string {
    return `${[
      this.requests,
      this.latency,
      this.deliveriesApplied,
      this.backendErrors,
      this.refusedPlatformCalls,
      this.configRevision,
      this.configRejected,
    ]
      .map((metric) => metric.render())
      .join("\n")}\n`;
  }
}
