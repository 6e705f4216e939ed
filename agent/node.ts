import { readFileSync } from "node:fs";
import { createServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import pg from "pg";
import type { AppliedSubscription, PublishedDataset } from "../domain/agent/config.ts";
import type { LocalBackend } from "./backends/config.ts";
import { createBackend as createBuiltInBackend } from "./backends/index.ts";
import { type Backend, BackendConfigError } from "./backends/types.ts";
import { type AppliedConfig, CentralConfig } from "./central-config.ts";
import { type LocalConfig, LocalConfigError } from "./config.ts";
import { consumerApi } from "./consumer-api.ts";
import { loadKeyFile, signingIdentity } from "./keys.ts";
import { createLogger, errorText, type Logger } from "./ops/log.ts";
import { AgentMetrics } from "./ops/metrics.ts";
import { opsApi, type Readiness } from "./ops/server.ts";
import { PlatformClient } from "./platform-client.ts";
import { type DeliveryApplier, providerApi } from "./provider.ts";
import { Publisher, type PublisherOptions } from "./sync/publisher.ts";
import { DeliveryStore } from "./sync/store.ts";
import { AGENT_VERSION } from "./version.ts";

/*
 * The Agent Node, composed: its key, its backends, its platform client, the central
 * configuration loop, and three listeners (consumer side for internal clients, provider side for
 * the platform, operations). Stopping it stops accepting, lets calls under way finish, then
 * closes backends and connections.
 */

/** Contract 4's publisher, as far as the node runs it. */
export interface PublisherLike {
  runOnce(): Promise<{ records: number; batchId?: string }>;
}

/** What the node is built from besides its file; tests and the bundle's entry pass what they need. */
export interface AgentNodeDeps {
  /** @default agent/backends/index.ts's createBackend */
  readonly createBackend?: (name: string, local: LocalBackend) => Backend;
  /** Opens a subscription's store in its PostgreSQL pool. @default `DeliveryStore.open` */
  readonly openDeliveryStore?: (pool: pg.Pool, table: string) => Promise<DeliveryApplier>;
  /** Makes a publisher of a published dataset. @default `new Publisher(…)` */
  readonly createPublisher?: (options: {
    pool: pg.Pool;
    dataset: PublishedDataset;
    submit: (datasetId: string, records: unknown[], batchKey: string) => Promise<{ batchId: string }>;
  }) => PublisherLike;
  /** @default the platform's published key set, fetched from its API */
  readonly keySet?: JWTVerifyGetKey;
  /** Where JSON log lines go. @default stdout */
  readonly logWrite?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  readonly heartbeatMs?: number;
  readonly refreshMs?: number;
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** How long stop() waits for calls under way. @default 10000 */
  readonly drainMs?: number;
}

export interface AgentNode {
  readonly consumerUrl: string;
  readonly providerUrl: string;
  readonly opsUrl: string;
  readonly central: CentralConfig;
  readonly metrics: AgentMetrics;
  /** Stops accepting, finishes calls under way, closes backends and connections. */
  stop(): Promise<void>;
}

/** Starts a node from its validated local configuration; start-up errors name the setting. */
export async function startAgentNode(config: LocalConfig, deps: AgentNodeDeps = {}): Promise<AgentNode> {
  const env = deps.env ?? process.env;
  const logger = createLogger(config.logLevel, deps.logWrite);
  const metrics = new AgentMetrics();
  const identity = signingIdentity(loadKeyFile(config.platform.keyFile), config.platform.kids);
  const backends = createBackends(config, deps.createBackend ?? createBuiltInBackend);
  const pools = new Map<string, pg.Pool>();
  const poolOf = (name: string): pg.Pool => {
    let pool = pools.get(name);
    if (!pool) {
      pool = sqlPool(name, config.backends[name], env);
      pools.set(name, pool);
    }
    return pool;
  };
  const client = new PlatformClient({
    apiUrl: config.platform.apiUrl,
    audience: config.platform.audience,
    identity: () => identity,
  });
  const keySet = deps.keySet ?? createRemoteJWKSet(client.keySetUrl, { cooldownDuration: 5_000 });
  const issuer = config.platform.issuer ?? config.platform.audience;
  const publishing = new PublishingSchedule(logger, metrics);

  const central = new CentralConfig({
    client,
    systemId: config.platform.systemId,
    issuer,
    keySet,
    backends,
    localBackends: config.backends,
    version: AGENT_VERSION,
    startedAt: new Date(),
    logger,
    metrics,
    localHealth: async () => {
      const failing = await failingBackends(backends);
      return failing.length === 0 ? { ok: true } : { ok: false, detail: `backends unavailable: ${failing.join(", ")}` };
    },
    onApplied: (applied) => {
      const make = deps.createPublisher ?? ((options) => new Publisher(options as PublisherOptions));
      publishing.apply(applied, (dataset) =>
        make({
          pool: poolOf(dataset.backend),
          dataset,
          submit: (datasetId, records, batchKey) => client.submitSyncBatch(datasetId, records, batchKey),
        }),
      );
    },
    ...(deps.heartbeatMs !== undefined ? { heartbeatMs: deps.heartbeatMs } : {}),
    ...(deps.refreshMs !== undefined ? { refreshMs: deps.refreshMs } : {}),
    ...(deps.backoff ? { backoff: deps.backoff } : {}),
  });

  const stores = new Map<string, Promise<DeliveryApplier>>();
  const deliveryStore = (subscription: AppliedSubscription): Promise<DeliveryApplier> => {
    const open = deps.openDeliveryStore ?? ((pool: pg.Pool, table: string) => DeliveryStore.open(pool, table));
    const key = `${subscription.store}/${subscription.table}`;
    let store = stores.get(key);
    if (!store) {
      store = open(poolOf(subscription.store), subscription.table);
      stores.set(key, store);
      // A store that failed to open is opened again on the next push.
      store.catch(() => stores.delete(key));
    }
    return store;
  };

  const readiness = async (): Promise<Readiness> => {
    const failing = await failingBackends(backends);
    const checks: Record<string, string> = {
      configuration: central.current ? `revision ${central.current.revision}` : "not loaded",
      ...Object.fromEntries([...backends.keys()].map((name) => [`backend:${name}`, "ok"])),
      ...Object.fromEntries(failing.map((name) => [`backend:${name}`, "unavailable"])),
    };
    return { ready: central.current !== undefined && failing.length === 0, checks };
  };

  const listeners: Listening[] = [];
  try {
    listeners.push(
      await listen(
        "consumer",
        config.consumer,
        consumerApi({
          clients: config.consumer.clients,
          platform: client,
          calls: () => central.current?.calls,
          metrics,
          logger,
        }),
      ),
    );
    listeners.push(
      await listen(
        "provider",
        config.provider,
        providerApi({
          systemId: config.platform.systemId,
          basePath: config.provider.basePath,
          issuer,
          keySet,
          state: () => central.current?.provider,
          deliveryStore,
          metrics,
          logger,
        }),
      ),
    );
    listeners.push(await listen("ops", config.ops, opsApi({ metrics, readiness, version: AGENT_VERSION })));
  } catch (error) {
    await Promise.all(listeners.map((listener) => listener.close(0)));
    await Promise.all([...backends.values()].map((backend) => backend.close()));
    client.close();
    throw error;
  }
  central.start();
  logger.info("node started", {
    systemId: config.platform.systemId,
    kid: identity.kid,
    version: AGENT_VERSION,
    ...Object.fromEntries(listeners.map((listener) => [`${listener.name}Url`, listener.url])),
  });

  let stopping: Promise<void> | undefined;
  const [consumer, provider, ops] = listeners as [Listening, Listening, Listening];
  return {
    consumerUrl: consumer.url,
    providerUrl: provider.url,
    opsUrl: ops.url,
    central,
    metrics,
    stop: () => {
      stopping ??= (async () => {
        logger.info("node stopping");
        const drainMs = deps.drainMs ?? 10_000;
        // Calls under way finish first (consumer and provider); health is answered to the end.
        await Promise.all([consumer.close(drainMs), provider.close(drainMs)]);
        await central.stop();
        publishing.stop();
        await Promise.all([...backends.values()].map((backend) => backend.close().catch(() => {})));
        await Promise.all([...pools.values()].map((pool) => pool.end().catch(() => {})));
        client.close();
        await ops.close(0);
        logger.info("node stopped");
      })();
      return stopping;
    },
  };
}

/** Every backend of the file, made now: a misconfigured one is a start-up error naming its setting. */
export function createBackends(
  config: LocalConfig,
  create: (name: string, local: LocalBackend) => Backend,
): Map<string, Backend> {
  const backends = new Map<string, Backend>();
  const problems: Array<{ setting: string; message: string }> = [];
  for (const [name, local] of Object.entries(config.backends)) {
    try {
      backends.set(name, create(name, local));
    } catch (error) {
      if (!(error instanceof BackendConfigError)) throw error;
      const setting = error.setting.startsWith("backends.") ? error.setting : `backends.${name}.${error.setting}`;
      problems.push({ setting, message: error.detail });
    }
  }
  if (problems.length > 0) {
    for (const backend of backends.values()) void backend.close();
    throw new LocalConfigError(problems);
  }
  return backends;
}

/** Names of the backends whose check() fails (each given 5 s). */
async function failingBackends(backends: ReadonlyMap<string, Backend>): Promise<string[]> {
  const results = await Promise.all(
    [...backends].map(async ([name, backend]) => {
      try {
        await backend.check(AbortSignal.timeout(5_000));
        return undefined;
      } catch {
        return name;
      }
    }),
  );
  return results.filter((name): name is string => name !== undefined);
}

/** A PostgreSQL pool for a local sql backend, for the stores and publishers of Contract 4. */
function sqlPool(name: string, local: LocalBackend | undefined, env: NodeJS.ProcessEnv): pg.Pool {
  if (local?.type !== "sql") throw new Error(`backend ${name} is not a sql backend`);
  return new pg.Pool({
    host: local.host,
    port: local.port,
    database: local.database,
    user: local.user,
    ...(local.passwordEnv ? { password: env[local.passwordEnv] } : {}),
    ...(local.ssl ? { ssl: true } : {}),
    max: local.poolMax ?? 4,
  });
}

interface Listening {
  readonly name: string;
  readonly url: string;
  /** Stops accepting; waits up to `drainMs` for requests under way, then closes every connection. */
  close(drainMs: number): Promise<void>;
}

async function listen(
  name: string,
  settings: { host: string; port: number; tls?: { cert: string; key: string; clientCa?: string } },
  handler: RequestListener,
): Promise<Listening> {
  let server: Server;
  try {
    server = settings.tls
      ? createHttpsServer(
          {
            cert: readFileSync(settings.tls.cert),
            key: readFileSync(settings.tls.key),
            ...(settings.tls.clientCa
              ? { ca: readFileSync(settings.tls.clientCa), requestCert: true, rejectUnauthorized: false }
              : {}),
          },
          handler,
        )
      : createServer(handler);
  } catch (error) {
    throw new LocalConfigError([{ setting: `${name}.tls`, message: errorText(error) }], { cause: error });
  }
  server.keepAliveTimeout = 65_000;
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", (error) =>
      reject(
        new LocalConfigError([
          {
            setting: `${name}.port`,
            message: `cannot listen on ${settings.host}:${settings.port}: ${errorText(error)}`,
          },
        ]),
      ),
    );
    server.listen(settings.port, settings.host, () => resolve((server.address() as AddressInfo).port));
  });
  const shownHost = settings.host === "0.0.0.0" || settings.host === "::" ? "127.0.0.1" : settings.host;
  return {
    name,
    url: `${settings.tls ? "https" : "http"}://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`,
    close: (drainMs) =>
      new Promise<void>((resolve) => {
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        const force = setTimeout(() => server.closeAllConnections(), drainMs);
        server.close(() => {
          clearInterval(idle);
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/** Runs each published dataset's publisher every `everySeconds`, one run at a time; follows the configuration. */
class PublishingSchedule {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Runs of an earlier configuration do not schedule themselves again. */
  private generation = 0;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: AgentMetrics,
  ) {}

  apply(applied: AppliedConfig, make: (dataset: PublishedDataset) => PublisherLike): void {
    this.stop();
    const generation = this.generation;
    for (const dataset of applied.config.publishes) {
      const publisher = make(dataset);
      const run = async () => {
        try {
          const result = await publisher.runOnce();
          if (result.records > 0) this.logger.info("published", { datasetId: dataset.datasetId, ...result });
        } catch (error) {
          this.metrics.backendErrors.inc({ backend: dataset.backend });
          this.logger.error("publishing failed", { datasetId: dataset.datasetId, error: errorText(error) });
        }
        if (generation === this.generation) {
          this.timers.set(dataset.datasetId, setTimeout(run, dataset.everySeconds * 1000));
        }
      };
      this.timers.set(dataset.datasetId, setTimeout(run, 0));
    }
  }

  stop(): void {
    this.generation += 1;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
