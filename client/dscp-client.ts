import type { JsonWebKey } from "node:crypto";
import { agentNodeRoutes } from "../api/agent-nodes.ts";
import { catalogRoutes } from "../api/catalog.ts";
import { deliveryRoutes } from "../api/delivery.ts";
import { dictionaryRoutes } from "../api/dictionary.ts";
import { exchangeRoutes } from "../api/exchange.ts";
import { checkpointerRoutes, checkpointPublisherRoutes, logReaderRoutes } from "../api/logs.ts";
import { permissionRoutes } from "../api/permissions.ts";
import { healthRoutes, openApiRoutes, platformKeyRoutes } from "../api/platform.ts";
import { registryRoutes } from "../api/registry.ts";
import { fillPath, isSigned, type PathParameterNames, type PathParameters, type Route } from "../api/route.ts";
import { syncRoutes } from "../api/sync.ts";
import type { AgentConfig } from "../domain/agent/config.ts";
import type { AgentConfigRecord, AgentNode, HeartbeatInput, SignedAgentConfigRecord } from "../domain/agent/nodes.ts";
import type { PublicDataset } from "../domain/catalog/catalog-service.ts";
import type { CatalogFilter, Dataset, DatasetPatch, NewDatasetInput } from "../domain/catalog/model.ts";
import type {
  DeliveryCounts,
  DeliveryRecord,
  DeliveryState,
  InboxMessage,
  Subscription,
  SubscriptionInput,
} from "../domain/delivery/model.ts";
import type { QueryInput } from "../domain/exchange/model.ts";
import type { ChainedEntry } from "../domain/exchange-log/chain.ts";
import type { SignedCheckpoint } from "../domain/exchange-log/checkpoint.ts";
import type { LogVerification } from "../domain/exchange-log/checkpointing.ts";
import type { LogQueryParameters } from "../domain/exchange-log/model.ts";
import type {
  AccessRequest,
  AccessRequestInput,
  Permission,
  PermissionListFilter,
} from "../domain/permissions/model.ts";
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from "../domain/problem.ts";
import type {
  Agency,
  KeyRecord,
  NewAgencyInput,
  NewKeyInput,
  NewSystemInput,
  Page,
  SystemFilter,
  SystemRecord,
} from "../domain/registry/model.ts";
import type { Batch } from "../domain/sync/model.ts";
import { type OnBehalfOf, type SigningIdentity, signRequest } from "./sign.ts";

export interface DscpClientOptions {
  /** Base URL of the API stage, e.g. `https://…/prod/` (the `ApiUrl` output). */
  readonly baseUrl: string;
  /** The platform's audience (the `PlatformAudience` output). */
  readonly audience: string;
  /** Who signs; without it only public routes can be called. */
  readonly identity?: SigningIdentity;
}

/** What the API answered, body parsed from JSON when there is one. */
export interface DscpResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly transactionId: string | null;
}

/** An RFC 9457 problem the API answered with. */
export class DscpProblemError extends Error {
  override readonly name = "DscpProblemError";
  constructor(
    readonly status: number,
    readonly problem: ProblemDetails,
  ) {
    super(`${status} ${problem.type}: ${problem.detail ?? problem.title}`);
  }
}

/** A response's body, or the problem the API answered with, thrown. */
function bodyOf<T>(response: DscpResponse<T>): T {
  if (response.status >= 400) throw new DscpProblemError(response.status, response.body as ProblemDetails);
  return response.body;
}

/** The request of {@link DscpClient.invoke}: with a value for each of the path's parameters, if it has any. */
export type InvokeArguments<P extends string> = [PathParameterNames<P>] extends [never]
  ? [request?: RequestOptions]
  : [request: RequestOptions & { readonly path: PathParameters<P> }];

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | undefined>> | object;
  readonly body?: unknown;
  /** Send without signing (public routes, or to see the refusal). */
  readonly unsigned?: boolean;
  /** The end user and case the call is made for, signed into the token (`usr`, `case`). */
  readonly onBehalfOf?: OnBehalfOf;
  /** Request headers beyond those the client sets (e.g. `If-None-Match`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A typed client of the DSCP API that signs every request with the system's key, as
 * design.md specifies (one fresh token per request, bound to its method, target and body).
 */
export class DscpClient {
  private readonly base: URL;

  constructor(private readonly options: DscpClientOptions) {
    this.base = new URL(options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`);
  }

  /** Sends one request and returns whatever the API answered, problems included. */
  async send<T = unknown>(method: string, path: string, request: RequestOptions = {}): Promise<DscpResponse<T>> {
    const query = Object.entries((request.query ?? {}) as Record<string, string | number | undefined>)
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      .map(([key, value]): [string, string] => [key, String(value)]);
    const url = new URL(path.replace(/^\//, ""), this.base);
    for (const [key, value] of query) url.searchParams.append(key, value);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = {
      ...request.headers,
      Accept: `application/json, ${PROBLEM_CONTENT_TYPE}`,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.options.identity && !request.unsigned) {
      const token = await signRequest(
        this.options.identity,
        this.options.audience,
        { method, path, query, body },
        request.onBehalfOf ?? {},
      );
      headers.Authorization = `Bearer ${token}`;
    }
    const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      // Text (a CSV download) as it came; everything else the API answers is JSON.
      body: (text
        ? /^text\//.test(response.headers.get("content-type") ?? "")
          ? text
          : JSON.parse(text)
        : undefined) as T,
      transactionId: response.headers.get("x-transaction-id"),
    };
  }

  /** Sends and returns the body, or throws the problem the API answered with. */
  async call<T>(method: string, path: string, request: RequestOptions = {}): Promise<T> {
    return bodyOf(await this.send<T>(method, path, request));
  }

  /**
   * Calls one operation by its route descriptor: its method, its path with each `path` parameter
   * encoded, signed unless the route is public (or `unsigned` says otherwise).
   */
  async invoke<T, P extends string>(route: Route & { readonly path: P }, ...request: InvokeArguments<P>): Promise<T> {
    return bodyOf(await this.sendRoute<T, P>(route, ...request));
  }

  /** {@link invoke}, returning whatever the API answered (status, headers, transaction id), problems included. */
  sendRoute<T, P extends string>(
    route: Route & { readonly path: P },
    ...request: InvokeArguments<P>
  ): Promise<DscpResponse<T>> {
    const { path = {}, ...options } = (request[0] ?? {}) as RequestOptions & {
      path?: Readonly<Record<string, string>>;
    };
    return this.send(route.method, fillPath(route.path, path), { unsigned: !isSigned(route), ...options });
  }

  health(): Promise<{ status: string; version: string; stage: string; time: string }> {
    return this.invoke(healthRoutes.getHealth);
  }

  registerAgency(input: Partial<NewAgencyInput>): Promise<Agency> {
    return this.invoke(registryRoutes.registerAgency, { body: input });
  }

  listAgencies(page: { limit?: number; cursor?: string } = {}): Promise<Page<Agency>> {
    return this.invoke(registryRoutes.listAgencies, { query: page });
  }

  registerSystem(agencyCode: string, input: Partial<NewSystemInput>): Promise<SystemRecord> {
    return this.invoke(registryRoutes.registerSystem, { path: { agencyId: agencyCode }, body: input });
  }

  addKey(systemId: string, input: NewKeyInput): Promise<KeyRecord> {
    return this.invoke(registryRoutes.addKey, { path: { systemId }, body: input });
  }

  /**
   * Systems: the operator sees every agency's, any other caller its own agency's;
   * `endpointStatus: "pending"` lists the endpoints awaiting the operator's approval.
   */
  listSystems(filter: SystemFilter & { limit?: number; cursor?: string } = {}): Promise<Page<SystemRecord>> {
    return this.invoke(registryRoutes.listSystems, { query: filter });
  }

  /** Moves a system to a new endpoint, pending the operator's approval again. */
  changeEndpoint(systemId: string, endpoint: string): Promise<SystemRecord> {
    return this.invoke(registryRoutes.changeEndpoint, { path: { systemId }, body: { endpoint } });
  }

  /** The operator approves the endpoint it reviewed: only then does the platform call it. */
  approveEndpoint(systemId: string, endpoint: string): Promise<SystemRecord> {
    return this.invoke(registryRoutes.approveEndpoint, { path: { systemId }, body: { endpoint } });
  }

  revokeKey(systemId: string, kid: string): Promise<KeyRecord> {
    return this.invoke(registryRoutes.revokeKey, { path: { systemId, kid } });
  }

  publishDataset(input: Partial<NewDatasetInput>): Promise<Dataset> {
    return this.invoke(catalogRoutes.publishDataset, { body: input });
  }

  amendDataset(datasetId: string, patch: DatasetPatch): Promise<Dataset> {
    return this.invoke(catalogRoutes.amendDataset, { path: { datasetId }, body: patch });
  }

  /** The public catalog; needs no identity. */
  listCatalog(filter: CatalogFilter & { limit?: number; cursor?: string } = {}): Promise<Page<PublicDataset>> {
    const { crossBorderAllowed, ...rest } = filter;
    return this.invoke(catalogRoutes.listCatalog, {
      query: {
        ...rest,
        ...(crossBorderAllowed === undefined ? {} : { crossBorderAllowed: String(crossBorderAllowed) }),
      },
    });
  }

  getCatalogDataset(datasetId: string): Promise<PublicDataset> {
    return this.invoke(catalogRoutes.getCatalogDataset, { path: { datasetId } });
  }

  requestAccess(input: AccessRequestInput): Promise<AccessRequest> {
    return this.invoke(permissionRoutes.requestAccess, { body: input });
  }

  listAccessRequests(
    filter: PermissionListFilter & { view?: string; limit?: number; cursor?: string } = {},
  ): Promise<Page<AccessRequest>> {
    return this.invoke(permissionRoutes.listAccessRequests, { query: filter });
  }

  decide(
    requestId: string,
    decision: { decision: "approve" | "reject"; reason: string; fields?: string[] },
  ): Promise<{ request: AccessRequest; permission?: Permission }> {
    return this.invoke(permissionRoutes.decideAccessRequest, { path: { requestId }, body: decision });
  }

  grantMandatory(input: AccessRequestInput & { consumerSystem: string }): Promise<Permission> {
    return this.invoke(permissionRoutes.grantMandatory, { body: input });
  }

  listPermissions(
    filter: PermissionListFilter & { view?: string; limit?: number; cursor?: string } = {},
  ): Promise<Page<Permission>> {
    return this.invoke(permissionRoutes.listPermissions, { query: filter });
  }

  revokePermission(permissionId: string, reason: string): Promise<Permission> {
    return this.invoke(permissionRoutes.revokePermission, { path: { permissionId }, body: { reason } });
  }

  /** Sets a system's Agent Node configuration as its next revision (the operator, or the system's agency). */
  setAgentConfig(systemId: string, config: Partial<AgentConfig>): Promise<AgentConfigRecord> {
    return this.invoke(agentNodeRoutes.setAgentConfig, { path: { systemId }, body: config });
  }

  /** A system's Agent Node configuration and the same signed by the platform (the system, its agency, the operator). */
  getAgentConfig(systemId: string): Promise<SignedAgentConfigRecord> {
    return this.invoke(agentNodeRoutes.getAgentConfig, { path: { systemId } });
  }

  /** A node's heartbeat (the system itself): answers the configuration revision the platform holds and the current release. */
  sendHeartbeat(systemId: string, heartbeat: HeartbeatInput): Promise<{ configRevision: number; release: string }> {
    return this.invoke(agentNodeRoutes.sendHeartbeat, { path: { systemId }, body: heartbeat });
  }

  /** Agent Nodes with their version, last heartbeat and configuration revision: the operator every agency's, an agency its own. */
  listAgentNodes(query: { agency?: string; limit?: number; cursor?: string } = {}): Promise<Page<AgentNode>> {
    return this.invoke(agentNodeRoutes.listAgentNodes, { query });
  }

  /** One record by its data key, permitted fields only (Art. 7.2a). */
  getRecord(
    datasetId: string,
    key: string,
    fields?: readonly string[],
    onBehalfOf?: OnBehalfOf,
  ): Promise<ExchangeRecord> {
    return this.invoke(exchangeRoutes.getRecord, {
      path: { datasetId, key },
      ...(fields && fields.length > 0 ? { query: { fields: fields.join(",") } } : {}),
      ...(onBehalfOf ? { onBehalfOf } : {}),
    });
  }

  /** Records matching equality filters on permitted fields, a page at a time. */
  queryRecords(datasetId: string, query: Partial<QueryInput>, onBehalfOf?: OnBehalfOf): Promise<ExchangePage> {
    return this.invoke(exchangeRoutes.queryRecords, {
      path: { datasetId },
      body: query,
      ...(onBehalfOf ? { onBehalfOf } : {}),
    });
  }

  /** The exchange log, scoped to the caller (a consumer its calls, a provider its datasets', the supervisor all). */
  listLogEntries(query: LogQueryParameters & { limit?: number; cursor?: string } = {}): Promise<Page<ChainedEntry>> {
    return this.invoke(logReaderRoutes.listLogEntries, { query });
  }

  /** Verifies every hash chain of the log, and against the latest signed checkpoint (operator, supervisor). */
  verifyLog(): Promise<LogVerification> {
    return this.invoke(logReaderRoutes.verifyLog);
  }

  /** The log's latest signed checkpoint; needs no identity. Check it with `verifyCheckpoint` and {@link platformKeys}. */
  latestLogCheckpoint(): Promise<SignedCheckpoint> {
    return this.invoke(checkpointPublisherRoutes.getLatestLogCheckpoint);
  }

  /** The log's signed checkpoints, newest first; needs no identity. */
  listLogCheckpoints(page: { limit?: number; cursor?: string } = {}): Promise<Page<SignedCheckpoint>> {
    return this.invoke(checkpointPublisherRoutes.listLogCheckpoints, { query: page });
  }

  /** Takes a checkpoint of the log now (operator, supervisor). */
  takeLogCheckpoint(): Promise<SignedCheckpoint> {
    return this.invoke(checkpointerRoutes.takeLogCheckpoint);
  }

  /** A dictionary schema version (or `latest`) as its JSON Schema document; needs no identity. */
  getJsonSchema(schemaId: string, version = "latest"): Promise<Record<string, unknown>> {
    return this.invoke(dictionaryRoutes.getJsonSchema, { path: { schemaId, version } });
  }

  /** A sync batch's state and counts, with its deliveries' counts: the caller's, or `provider`'s. */
  getBatch(batchId: string, provider?: string): Promise<BatchStatus> {
    return this.invoke(syncRoutes.getBatch, { path: { batchId }, query: provider ? { provider } : {} });
  }

  /** Where each delivery message of a batch (the caller's, or `provider`'s) stands. */
  listBatchDeliveries(
    batchId: string,
    query: { state?: DeliveryState; limit?: number; cursor?: string; provider?: string } = {},
  ): Promise<Page<DeliveryRecord>> {
    return this.invoke(syncRoutes.listBatchDeliveries, { path: { batchId }, query });
  }

  /** Subscribes the caller (or, for the operator, another system) to a dataset's sync deliveries (7.2b). */
  subscribe(input: SubscriptionInput): Promise<Subscription> {
    return this.invoke(deliveryRoutes.subscribe, { body: input });
  }

  listSubscriptions(query: { datasetId?: string; consumerSystem?: string } = {}): Promise<{ items: Subscription[] }> {
    return this.invoke(deliveryRoutes.listSubscriptions, { query });
  }

  unsubscribe(subscriptionId: string): Promise<Subscription> {
    return this.invoke(deliveryRoutes.unsubscribe, { path: { subscriptionId } });
  }

  /** The caller system's inbox, oldest first. */
  readInbox(query: { datasetId?: string; limit?: number; cursor?: string } = {}): Promise<Page<InboxMessage>> {
    return this.invoke(deliveryRoutes.readInbox, { query });
  }

  acknowledge(receipts: readonly string[]): Promise<{ acknowledged: number; unknown: string[] }> {
    return this.invoke(deliveryRoutes.acknowledgeInbox, { body: { receipts } });
  }

  /** Moves dead-lettered deliveries back to the delivery queue (operator). */
  redriveDeliveries(
    input: { consumerSystem?: string; datasetId?: string; max?: number } = {},
  ): Promise<{ redriven: number; messages: string[] }> {
    return this.invoke(deliveryRoutes.redriveDeliveries, { body: input });
  }

  /** The platform's public key set (ES256), which verifies its calls, deliveries and packages; needs no identity. */
  platformKeys(): Promise<{ keys: Array<JsonWebKey & { kid?: string }> }> {
    return this.invoke(platformKeyRoutes.getPlatformKeys);
  }

  /** The OpenAPI 3.1 document of the API; needs no identity. */
  openApi(): Promise<Record<string, unknown>> {
    return this.invoke(openApiRoutes.getOpenApi);
  }
}

/** `GET /v1/sync/batches/{batchId}`: the batch, what is left to apply, and its deliveries. */
export type BatchStatus = Omit<Batch, "deliveries"> & { readonly pending: number; readonly deliveries: DeliveryCounts };

export interface ExchangeRecord {
  readonly datasetId: string;
  readonly key: string;
  readonly record: Record<string, unknown>;
}

export interface ExchangePage {
  readonly datasetId: string;
  readonly items: Record<string, unknown>[];
  readonly nextCursor?: string;
}

export type { LogVerification };
