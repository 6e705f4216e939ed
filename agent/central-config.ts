import { decodeProtectedHeader, type JWTVerifyGetKey } from "jose";
import { type AgentConfig, agentConfig } from "../domain/agent/config.ts";
import { verifyPlatformToken } from "../domain/identity/platform-token.ts";
import type { LocalBackend } from "./backends/config.ts";
import { type Backend, BackendConfigError } from "./backends/types.ts";
import { type SettingProblem, settingName } from "./config.ts";
import { errorText, type Logger } from "./ops/log.ts";
import type { AgentMetrics } from "./ops/metrics.ts";
import { type AgentConfigResponse, backoffDelay, type Heartbeat, type PlatformClient } from "./platform-client.ts";
import type { ProviderState } from "./provider.ts";

/*
 * The node's central configuration (Art. 7.3d): what it serves and calls is set on the platform,
 * which signs it; the node fetches it at start, when a heartbeat (every 20 s) reports another
 * revision, and every 60 s regardless, so a change reaches it within a minute. Only a signature
 * the platform's published key set verifies is trusted; a configuration the local backends cannot
 * carry is refused whole (the previous one stays). A node that loses the platform keeps serving
 * what it has and retries with exponential backoff and jitter.
 */

/** `typ` of the signed configuration (Contract 2). */
export const AGENT_CONFIG_TYPE = "dscp-agent-config+jwt";

/** A configuration as the node applied it. */
export interface AppliedConfig {
  readonly revision: number;
  readonly config: AgentConfig;
  /** Dataset ids internal clients may call. */
  readonly calls: ReadonlySet<string>;
  readonly provider: ProviderState;
  readonly appliedAt: Date;
}

/** The signed configuration does not verify, or does not parse. */
export class ConfigVerificationError extends Error {
  override readonly name = "ConfigVerificationError";
}

/** The configuration verifies but names what the node's own file does not hold. */
export class ConfigRejectedError extends Error {
  override readonly name = "ConfigRejectedError";
  constructor(
    readonly revision: number,
    readonly problems: readonly SettingProblem[],
  ) {
    super(
      `configuration revision ${revision} refused: ${problems.map((p) => `${p.setting}: ${p.message}`).join("; ")}`,
    );
  }
}

/**
 * Checks a central configuration against the node's backends: every backend and store it names
 * exists in the local file, of the right type, and accepts the dataset's mapping. Each problem
 * names the setting of the central configuration.
 */
export function configProblems(
  config: AgentConfig,
  backends: ReadonlyMap<string, Backend>,
  localBackends: Readonly<Record<string, LocalBackend>>,
): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const missing = (setting: string, name: string) => {
    problems.push({ setting, message: `no backend named ${name} in the node's file (backends)` });
  };
  for (const [index, dataset] of config.serves.entries()) {
    const backend = backends.get(dataset.backend);
    if (!backend) {
      missing(`serves[${index}].backend`, dataset.backend);
      continue;
    }
    if (!dataset.path) {
      problems.push({
        setting: `serves[${index}].path`,
        message: "missing: the platform fills it from the dataset's upstreamPath",
      });
    }
    try {
      backend.validate(dataset);
    } catch (error) {
      if (!(error instanceof BackendConfigError)) throw error;
      // Backends name a served dataset by its id; the central configuration's reader by its place.
      const setting = error.setting.startsWith("serves[")
        ? error.setting.replace(/^serves\[[^\]]*\]/, `serves[${index}]`)
        : `serves[${index}].${error.setting}`;
      problems.push({ setting, message: error.detail });
    }
  }
  const sqlBackend = (setting: string, name: string) => {
    const local = localBackends[name];
    if (!local) missing(setting, name);
    else if (local.type !== "sql") problems.push({ setting, message: `backend ${name} is not a sql backend` });
  };
  for (const [index, subscription] of config.subscriptions.entries()) {
    sqlBackend(`subscriptions[${index}].store`, subscription.store);
  }
  for (const [index, published] of config.publishes.entries()) {
    sqlBackend(`publishes[${index}].backend`, published.backend);
  }
  return problems;
}

/** Verifies the signed configuration with the platform's key set: its revision and configuration. */
export async function verifySignedConfig(
  signed: string,
  keySet: JWTVerifyGetKey,
  expected: { issuer: string; systemId: string; now?: Date },
): Promise<{ revision: number; config: AgentConfig }> {
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(signed).typ;
  } catch (error) {
    throw new ConfigVerificationError("the signed configuration is not a compact JWS", { cause: error });
  }
  if (typ !== AGENT_CONFIG_TYPE) throw new ConfigVerificationError(`the signed configuration's typ is ${String(typ)}`);
  let payload: Awaited<ReturnType<typeof verifyPlatformToken>>["payload"];
  try {
    ({ payload } = await verifyPlatformToken(signed, keySet, {
      issuer: expected.issuer,
      audience: expected.systemId,
      requiredClaims: ["sub", "rev", "cfg"],
      ...(expected.now ? { now: expected.now } : {}),
    }));
  } catch (error) {
    throw new ConfigVerificationError(`the configuration's signature does not verify: ${errorText(error)}`, {
      cause: error,
    });
  }
  if (payload.sub !== expected.systemId) {
    throw new ConfigVerificationError(`the configuration is for ${payload.sub}, not ${expected.systemId}`);
  }
  const revision = payload.rev;
  if (typeof revision !== "number" || !Number.isInteger(revision) || revision < 1) {
    throw new ConfigVerificationError("the configuration's rev is not a revision number");
  }
  const parsed = agentConfig.safeParse(payload.cfg);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigVerificationError(
      `the configuration does not parse: ${settingName(issue?.path ?? [])}: ${issue?.message ?? "invalid"}`,
    );
  }
  return { revision, config: parsed.data };
}

export interface CentralConfigOptions {
  readonly client: Pick<PlatformClient, "fetchAgentConfig" | "heartbeat">;
  readonly systemId: string;
  /** `iss` of the platform's signatures. */
  readonly issuer: string;
  readonly keySet: JWTVerifyGetKey;
  /** The node's backends, made from its file at start. */
  readonly backends: ReadonlyMap<string, Backend>;
  readonly localBackends: Readonly<Record<string, LocalBackend>>;
  readonly version: string;
  readonly startedAt: Date;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  /** Health of the node's own parts (backends), folded into the heartbeat's. */
  readonly localHealth?: () => Promise<{ ok: boolean; detail?: string }>;
  /** Called with each configuration applied. */
  readonly onApplied?: (applied: AppliedConfig) => void;
  /** @default 20000 */
  readonly heartbeatMs?: number;
  /** @default 60000 */
  readonly refreshMs?: number;
  /** Retry delays while the platform cannot be reached. @default { baseMs: 1000, maxMs: 60000 } */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  readonly random?: () => number;
}

/** The node's central configuration: the one applied, and the loop that keeps it current. */
export class CentralConfig {
  private applied: AppliedConfig | undefined;
  private rejected: ConfigRejectedError | ConfigVerificationError | undefined;
  private rejectedRevision: number | undefined;
  private failures = 0;
  private lastFetch = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: CentralConfigOptions) {}

  /** The configuration applied now, if any. */
  get current(): AppliedConfig | undefined {
    return this.applied;
  }

  /** Whether the last exchange with the platform succeeded. */
  get platformReachable(): boolean {
    return this.failures === 0 && this.lastFetch > 0;
  }

  /** ok; degraded (a configuration refused, the platform lost, a backend down); failing (nothing to serve). */
  async health(): Promise<{ health: Heartbeat["health"]; detail?: string }> {
    const local = (await this.options.localHealth?.()) ?? { ok: true };
    const details = [
      ...(this.applied ? [] : ["no central configuration applied"]),
      ...(this.rejected ? [this.rejected.message] : []),
      ...(this.failures > 0 ? ["the platform cannot be reached"] : []),
      ...(local.ok ? [] : [local.detail ?? "a backend is unavailable"]),
    ];
    if (details.length === 0) return { health: "ok" };
    const health = !this.applied && this.failures > 0 ? "failing" : "degraded";
    return { health, detail: details.join("; ").slice(0, 1000) };
  }

  /** Starts the loop: a fetch and a heartbeat now, then every heartbeat period (backing off while the platform is lost). */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the loop, waiting for a cycle under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Fetches the configuration and applies it if it is another revision and valid; throws when the
   * platform cannot be reached. Resolves to what happened.
   */
  async refresh(): Promise<"applied" | "unchanged" | "none" | "rejected"> {
    const fetched = await this.options.client.fetchAgentConfig(this.options.systemId, this.applied?.revision);
    this.lastFetch = Date.now();
    if (fetched.status === 200) return this.apply(fetched.value);
    return fetched.status === 304 ? "unchanged" : "none";
  }

  /** Verifies, validates and applies one answer of the platform; the previous configuration stays if it fails. */
  async apply(answer: AgentConfigResponse): Promise<"applied" | "unchanged" | "rejected"> {
    const { systemId, issuer, keySet, logger, metrics } = this.options;
    try {
      const { revision, config } = await verifySignedConfig(answer.signed, keySet, { issuer, systemId });
      if (this.applied && revision <= this.applied.revision) return "unchanged";
      const problems = configProblems(config, this.options.backends, this.options.localBackends);
      if (problems.length > 0) throw new ConfigRejectedError(revision, problems);
      const applied = this.build(revision, config);
      this.applied = applied; // one assignment: both sides see the old configuration or the new one
      this.rejected = undefined;
      this.rejectedRevision = undefined;
      metrics.configRevision.set(revision);
      logger.info("configuration applied", { revision, serves: config.serves.length, calls: config.calls.length });
      this.options.onApplied?.(applied);
      return "applied";
    } catch (error) {
      if (!(error instanceof ConfigRejectedError || error instanceof ConfigVerificationError)) throw error;
      this.rejected = error;
      this.rejectedRevision = error instanceof ConfigRejectedError ? error.revision : answer.revision;
      metrics.configRejected.inc();
      logger.error("configuration not applied", {
        revision: answer.revision,
        error: error.message,
        ...(error instanceof ConfigRejectedError ? { settings: error.problems } : {}),
        keeps: this.applied?.revision ?? 0,
      });
      return "rejected";
    }
  }

  /** One heartbeat; fetches the configuration when the platform reports another revision, or it is time to. */
  async beat(): Promise<void> {
    const { health, detail } = await this.health();
    const answer = await this.options.client.heartbeat(this.options.systemId, {
      version: this.options.version,
      configRevision: this.applied?.revision ?? 0,
      health,
      startedAt: this.options.startedAt.toISOString(),
      ...(detail ? { detail } : {}),
    });
    const other = answer.configRevision !== (this.applied?.revision ?? 0);
    const due = Date.now() - this.lastFetch >= (this.options.refreshMs ?? 60_000);
    if (due || (other && answer.configRevision !== this.rejectedRevision)) await this.refresh();
  }

  private build(revision: number, config: AgentConfig): AppliedConfig {
    const serves = config.serves.map((dataset) => ({
      dataset,
      path: String(dataset.path),
      backend: this.options.backends.get(dataset.backend) as Backend,
    }));
    return {
      revision,
      config,
      calls: new Set(config.calls),
      provider: { serves, subscriptions: config.subscriptions },
      appliedAt: new Date(),
    };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.cycle().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
  }

  private async cycle(): Promise<void> {
    try {
      if (this.lastFetch === 0) await this.refresh();
      await this.beat();
      if (this.failures > 0) this.options.logger.info("platform reachable again", { after: this.failures });
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      this.options.logger.warn("platform exchange failed", { attempt: this.failures, error: errorText(error) });
    }
    this.schedule(
      this.failures > 0
        ? backoffDelay(this.failures, this.options.backoff, this.options.random)
        : (this.options.heartbeatMs ?? 20_000),
    );
  }
}
