import type { CatalogStore } from "../catalog/model.ts";
import { isAdmin, requireAgencyOrAdmin } from "../identity/authorization.ts";
import { ConflictError, ForbiddenError, type InvalidParam, NotFoundError, ValidationError } from "../problem.ts";
import type { Caller, Page, RegistryStore, SystemRecord } from "../registry/model.ts";
import { parseInput } from "../validation.ts";
import { type AgentConfig, agentConfig } from "./config.ts";
import {
  type AgentConfigRecord,
  type AgentNode,
  type AgentNodeState,
  type AgentNodeStore,
  agentNodeQuery,
  heartbeatInput,
  isOlderRelease,
  matchesRevision,
  type SignedAgentConfigRecord,
} from "./nodes.ts";
import { AGENT_RELEASE } from "./release.ts";

/**
 * Largest configuration kept, as JSON: the API's WAF takes no larger body on a route that is not
 * bulk (lib/constructs/platform-api.ts), and it stays well inside one DynamoDB item (400 KB).
 */
export const MAX_CONFIG_BYTES = 64 * 1024;

/** Writes of one configuration tried before a 409: each lost race means another revision was stored first. */
const MAX_CONFIG_WRITES = 5;

export interface AgentNodeDependencies {
  readonly store: AgentNodeStore;
  readonly registry: Pick<RegistryStore, "getSystem">;
  readonly catalog: Pick<CatalogStore, "getDataset">;
  /** Signs a configuration for its node, as the platform signs its calls (`signAgentConfig`). */
  readonly sign: (systemId: string, revision: number, config: AgentConfig) => Promise<string>;
  /** The release nodes are compared against. @default AGENT_RELEASE */
  readonly release?: string;
  readonly now?: () => Date;
}

/**
 * The platform's side of Agent Nodes (Art. 7.3d, 22.4): each node's central configuration, set by
 * the operator or the node's own agency, revised on every change and served signed; its heartbeats;
 * and the list of nodes with their version and configuration against the current ones.
 */
export class AgentNodeService {
  private readonly release: string;

  constructor(private readonly deps: AgentNodeDependencies) {
    this.release = deps.release ?? AGENT_RELEASE;
  }

  /**
   * Sets a node's configuration as its next revision: the operator, or the system's own agency.
   * Refused (400, naming each field) when it breaks the schema, serves a dataset this system does
   * not provide, or calls, applies or publishes a dataset that does not fit. Each served dataset's
   * `path` is the catalog's upstreamPath.
   */
  async setConfig(caller: Caller, systemId: string, input: unknown): Promise<AgentConfigRecord> {
    const system = await this.configurable(caller, systemId, "configure");
    const parsed = parseInput(agentConfig, input, "agent configuration");
    // Served datasets' paths, filled in, are short: a configuration within the bound stays within it.
    if (Buffer.byteLength(JSON.stringify(parsed)) > MAX_CONFIG_BYTES) {
      throw new ValidationError("the configuration is too large", [
        { name: "(body)", reason: `must be at most ${MAX_CONFIG_BYTES} bytes as JSON` },
      ]);
    }
    const config = await this.checked(system, parsed);
    for (let attempt = 0; attempt < MAX_CONFIG_WRITES; attempt++) {
      const current = await this.deps.store.getConfig(systemId);
      const record: AgentConfigRecord = {
        systemId,
        revision: (current?.revision ?? 0) + 1,
        config,
        updatedAt: this.now().toISOString(),
        updatedBy: caller.systemId,
      };
      if (await this.deps.store.putConfig(record, { agencyCode: system.agencyCode, name: system.name })) return record;
    }
    throw new ConflictError(`the configuration of ${systemId} is being changed by others at the same time: retry`);
  }

  /**
   * The configuration and the same signed, for the node itself, its agency or the operator; 404
   * when none was ever set. `{ notModified }` when `ifNoneMatch` names the current revision.
   */
  async getConfig(
    caller: Caller,
    systemId: string,
    ifNoneMatch?: string,
  ): Promise<{ readonly notModified: true; readonly revision: number } | SignedAgentConfigRecord> {
    await this.configurable(caller, systemId, "read the configuration of");
    const record = await this.deps.store.getConfig(systemId);
    if (!record) throw new NotFoundError(`no configuration was set for ${systemId}`);
    if (matchesRevision(ifNoneMatch, record.revision)) return { notModified: true, revision: record.revision };
    return {
      systemId,
      revision: record.revision,
      config: record.config,
      updatedAt: record.updatedAt,
      signed: await this.deps.sign(systemId, record.revision, record.config),
    };
  }

  /** A node's heartbeat: only the system itself. Answers the revision it should apply and the current release. */
  async heartbeat(
    caller: Caller,
    systemId: string,
    input: unknown,
  ): Promise<{ readonly configRevision: number; readonly release: string }> {
    if (caller.systemId !== systemId) {
      throw new ForbiddenError(`${caller.systemId} may not send ${systemId}'s heartbeat: only the node itself`);
    }
    const parsed = parseInput(heartbeatInput, input, "heartbeat");
    const found = await this.deps.registry.getSystem(systemId);
    if (!found) throw new NotFoundError(`no system ${systemId}`);
    const configRevision = await this.deps.store.recordHeartbeat({
      ...parsed,
      systemId,
      agencyCode: found.system.agencyCode,
      name: found.system.name,
      lastSeenAt: this.now().toISOString(),
    });
    return { configRevision, release: this.release };
  }

  /** The nodes, with their version and configuration against the current ones: the operator every agency's, an agency its own. */
  async listNodes(caller: Caller, query: unknown, page: { limit: number; cursor?: string }): Promise<Page<AgentNode>> {
    const { agency } = parseInput(agentNodeQuery, query, "node filter");
    let listed: Page<AgentNodeState>;
    if (isAdmin(caller)) {
      listed = await this.deps.store.listNodes(agency ? { agency } : {}, page);
    } else {
      const own = agency ?? caller.agencyCode;
      requireAgencyOrAdmin(caller, own, `list the Agent Nodes of ${own}`);
      listed = await this.deps.store.listNodes({ agency: own }, page);
    }
    return { ...listed, items: listed.items.map((node) => this.described(node)) };
  }

  private described(node: AgentNodeState): AgentNode {
    return {
      ...node,
      outOfDate: node.version !== undefined && isOlderRelease(node.version, this.release),
      configOutOfDate: (node.configRevision ?? 0) < (node.currentConfigRevision ?? 0),
    };
  }

  /**
   * The system, if the caller may configure it: the operator, or the system's own agency. Other
   * agencies learn nothing of which systems exist (403 whether or not it does).
   */
  private async configurable(caller: Caller, systemId: string, action: string): Promise<SystemRecord> {
    const found = await this.deps.registry.getSystem(systemId);
    if (!found) {
      if (!isAdmin(caller) && !systemId.startsWith(`${caller.agencyCode}.`)) {
        throw new ForbiddenError(`${caller.systemId} may not ${action} ${systemId}`);
      }
      throw new NotFoundError(`no system ${systemId}`);
    }
    requireAgencyOrAdmin(caller, found.system.agencyCode, `${action} ${systemId}`);
    // As for its keys and endpoint: a system holding a platform role is the operator's or its own, never a sibling's.
    if (found.system.roles.length > 0 && !isAdmin(caller) && caller.systemId !== systemId) {
      throw new ForbiddenError(`${systemId} holds a platform role: only it or the operator may ${action} it`);
    }
    return found.system;
  }

  /** The configuration checked against the catalog, every problem named; served datasets' paths filled. */
  private async checked(system: SystemRecord, config: AgentConfig): Promise<AgentConfig> {
    const invalid: InvalidParam[] = [];
    const datasets = new Map(
      await Promise.all(
        [
          ...new Set([
            ...config.serves.map((served) => served.datasetId),
            ...config.calls,
            ...config.subscriptions.map((subscription) => subscription.datasetId),
            ...config.publishes.map((published) => published.datasetId),
          ]),
        ].map(async (id) => [id, await this.deps.catalog.getDataset(id)] as const),
      ),
    );
    const provided = (path: string, datasetId: string) => {
      const dataset = datasets.get(datasetId);
      if (!dataset) invalid.push({ name: path, reason: `no dataset ${datasetId} in the catalog` });
      else if (dataset.providerSystem !== system.id) {
        invalid.push({ name: path, reason: `${datasetId} is provided by ${dataset.providerSystem}, not ${system.id}` });
      }
      return dataset;
    };
    const serves = config.serves.map((served, index) => {
      const dataset = provided(`serves/${index}/datasetId`, served.datasetId);
      if (dataset && dataset.providerSystem === system.id && !dataset.upstreamPath) {
        invalid.push({
          name: `serves/${index}/datasetId`,
          reason: `${served.datasetId} has no upstreamPath in the catalog: the platform never calls a node for it`,
        });
      }
      const { path: _given, ...rest } = served;
      return dataset?.upstreamPath ? { ...rest, path: dataset.upstreamPath } : rest;
    });
    config.calls.forEach((datasetId, index) => {
      if (!datasets.get(datasetId))
        invalid.push({ name: `calls/${index}`, reason: `no dataset ${datasetId} in the catalog` });
    });
    config.subscriptions.forEach((subscription, index) => {
      if (!datasets.get(subscription.datasetId)) {
        invalid.push({
          name: `subscriptions/${index}/datasetId`,
          reason: `no dataset ${subscription.datasetId} in the catalog`,
        });
      }
      const expected = `${subscription.datasetId}@${system.id}`;
      if (subscription.subscriptionId !== expected) {
        invalid.push({
          name: `subscriptions/${index}/subscriptionId`,
          reason: `must be ${expected}, this system's subscription`,
        });
      }
    });
    config.publishes.forEach((published, index) => {
      provided(`publishes/${index}/datasetId`, published.datasetId);
    });
    if (invalid.length > 0) {
      throw new ValidationError(`agent configuration: ${invalid.length} invalid field(s)`, invalid);
    }
    return { ...config, serves };
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}
