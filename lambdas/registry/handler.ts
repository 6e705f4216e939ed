import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { registryRoutes } from "../../api/registry.ts";
import { endpointPolicy } from "../../domain/registry/endpoint-policy.ts";
import { systemListQuery } from "../../domain/registry/model.ts";
import { RegistryService } from "../../domain/registry/registry-service.ts";
import { parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { created, httpHandler, ok } from "../shared/http.ts";
import { dispatch, pagination, pathParameter, queryParameters } from "../shared/routes.ts";
import { registryEnvironment } from "./environment.ts";

const environment = lazyEnvironment(registryEnvironment);
let service: RegistryService | undefined;
const registry = () => {
  service ??= new RegistryService(new DynamoRegistryStore(dynamoDbClient(), environment().REGISTRY_TABLE_NAME), {
    policy: endpointPolicy(environment().DSCP_STAGE),
  });
  return service;
};

/** Agencies, their systems (Agent Nodes) and the systems' public keys. */
export const handler = httpHandler(
  dispatch(registryRoutes, {
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
  }),
);
