import { DynamoAgentNodeStore } from "../../adapters/dynamodb/agent-node-store.ts";
import { DynamoCatalogStore } from "../../adapters/dynamodb/catalog-store.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { kmsSigner } from "../../adapters/kms/kms-signer.ts";
import { agentNodeRoutes } from "../../api/agent-nodes.ts";
import { registryRoutes } from "../../api/registry.ts";
import { AgentNodeService } from "../../domain/agent/node-registry.ts";
import { agentNodeQuery, revisionTag } from "../../domain/agent/nodes.ts";
import { signAgentConfig } from "../../domain/agent/signed-config.ts";
import { environmentKeys } from "../../domain/identity/key-certificate.ts";
import { endpointPolicy } from "../../domain/registry/endpoint-policy.ts";
import { systemListQuery } from "../../domain/registry/model.ts";
import { RegistryService } from "../../domain/registry/registry-service.ts";
import { parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { created, httpHandler, ok } from "../shared/http.ts";
import { dispatch, pagination, pathParameter, queryParameters } from "../shared/routes.ts";
import { registryFunctionEnvironment } from "./environment.ts";

const environment = lazyEnvironment(registryFunctionEnvironment);
let service: RegistryService | undefined;
const registry = () => {
  service ??= new RegistryService(new DynamoRegistryStore(dynamoDbClient(), environment().REGISTRY_TABLE_NAME), {
    policy: endpointPolicy(environment().DSCP_STAGE),
  });
  return service;
};

let nodeService: AgentNodeService | undefined;
const agentNodes = () => {
  if (nodeService) return nodeService;
  const env = environment();
  const client = dynamoDbClient();
  // This environment's signing key, certified once an hour by the platform key: one KMS Sign per renewal.
  const keys = environmentKeys(kmsSigner(env.PLATFORM_KEY_ID));
  nodeService = new AgentNodeService({
    store: new DynamoAgentNodeStore(client, env.REGISTRY_TABLE_NAME),
    registry: new DynamoRegistryStore(client, env.REGISTRY_TABLE_NAME),
    catalog: new DynamoCatalogStore(client, env.REGISTRY_TABLE_NAME),
    sign: (systemId, revision, config) =>
      signAgentConfig(keys, { issuer: env.PLATFORM_ISSUER, systemId, revision, config }),
  });
  return nodeService;
};

/** The routes this function serves: the registry's, and the Agent Nodes' (api/agent-nodes.ts). */
const servedRoutes = { ...registryRoutes, ...agentNodeRoutes };

/** Agencies, their systems (Agent Nodes), the systems' public keys, and the Agent Nodes' configurations and heartbeats. */
export const handler = httpHandler(
  dispatch(servedRoutes, {
    registerAgency: async (event) =>
      created(registry().registerAgency(authenticatedCaller(event), parseJsonBody(event.body))),
    listAgencies: async (event) => {
      authenticatedCaller(event);
      return ok(registry().listAgencies(pagination(event)));
    },
    registerSystem: async (event) =>
      created(
        registry().registerSystem(
          authenticatedCaller(event),
          pathParameter(event, "agencyId"),
          parseJsonBody(event.body),
        ),
      ),
    listSystems: async (event) => {
      const caller = authenticatedCaller(event);
      return ok(registry().listSystems(caller, queryParameters(event, systemListQuery), pagination(event)));
    },
    addKey: async (event) =>
      created(
        registry().addKey(authenticatedCaller(event), pathParameter(event, "systemId"), parseJsonBody(event.body)),
      ),
    changeEndpoint: async (event) =>
      ok(
        registry().changeEndpoint(
          authenticatedCaller(event),
          pathParameter(event, "systemId"),
          parseJsonBody(event.body),
        ),
      ),
    approveEndpoint: async (event) =>
      ok(
        registry().approveEndpoint(
          authenticatedCaller(event),
          pathParameter(event, "systemId"),
          parseJsonBody(event.body),
        ),
      ),
    revokeKey: async (event) =>
      ok(
        registry().revokeKey(authenticatedCaller(event), pathParameter(event, "systemId"), pathParameter(event, "kid")),
      ),
    setAgentConfig: async (event) => {
      const record = await agentNodes().setConfig(
        authenticatedCaller(event),
        pathParameter(event, "systemId"),
        parseJsonBody(event.body),
      );
      return { status: 200, body: record, headers: { ETag: revisionTag(record.revision) } };
    },
    getAgentConfig: async (event) => {
      const found = await agentNodes().getConfig(
        authenticatedCaller(event),
        pathParameter(event, "systemId"),
        headerValue(event, "if-none-match"),
      );
      const headers = { ETag: revisionTag(found.revision) };
      return "notModified" in found ? { status: 304, headers } : { status: 200, body: found, headers };
    },
    sendHeartbeat: async (event) =>
      ok(
        agentNodes().heartbeat(authenticatedCaller(event), pathParameter(event, "systemId"), parseJsonBody(event.body)),
      ),
    listAgentNodes: async (event) =>
      ok(agentNodes().listNodes(authenticatedCaller(event), queryParameters(event, agentNodeQuery), pagination(event))),
  }),
);

/** A request header by name, whatever its case. */
function headerValue(event: { headers: Record<string, string | undefined> | null }, name: string): string | undefined {
  return Object.entries(event.headers ?? {}).find(([candidate]) => candidate.toLowerCase() === name)?.[1];
}
