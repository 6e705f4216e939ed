/** A dependency the platform checks when asked whether it is healthy. */
export interface HealthProbe {
  readonly name: string;
  /** Resolves when the dependency answers; rejects with the reason it does not. */
  check(): Promise<void>;
}

export type CheckStatus = "ok" | "failing";

export interface HealthReport {
  readonly status: "ok" | "degraded";
  readonly version: string;
  readonly stage: string;
  /** ISO 8601 time at which the report was made. */
  readonly time: string;
  readonly checks: Readonly<Record<string, { status: CheckStatus; latencyMs: number; error?: string }>>;
}

export interface HealthInput {
  readonly version: string;
  readonly stage: string;
  readonly probes: readonly HealthProbe[];
  readonly now?: () => Date;
}

/** Runs every probe concurrently and reports the platform degraded if any of them fails. */
export async function checkHealth(input: HealthInput): Promise<HealthReport> {
  const now = input.now ?? (() => new Date());
  const results = await Promise.all(
    input.probes.map(async (probe) => {
      const started = performance.now();
      try {
        await probe.check();
        return [probe.name, { status: "ok" as const, latencyMs: elapsed(started) }] as const;
      } catch (error) {
        const reason = error instanceof Error ? error.name : "Error";
        return [probe.name, { status: "failing" as const, latencyMs: elapsed(started), error: reason }] as const;
      }
    }),
  );
  return {
    status: results.every(([, result]) => result.status === "ok") ? "ok" : "degraded",
    version: input.version,
    stage: input.stage,
    time: now().toISOString(),
    checks: Object.fromEntries(results),
  };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
