import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { endpointPolicy } from "../../domain/registry/endpoint-policy.ts";
import { systemListQuery } from "../../domain/registry/model.ts";
import { RegistryService } from "../../domain/registry/registry-service.ts";
import { parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { httpHandler } from "../shared/http.ts";
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
  dispatch({
    "POST /v1/agencies": async (event) => ({
      status: 201,
      body: await registry().registerAgency(authenticatedCaller(event), parseJsonBody(event.body)),
    }),
    "GET /v1/agencies": async (event) => {
      authenticatedCaller(event);
      return { status: 200, body: await registry().listAgencies(pagination(event)) };
    },
    "POST /v1/agencies/{agencyId}/systems": async (event) => ({
      status: 201,
      body: await registry().registerSystem(
        authenticatedCaller(event),
        pathParameter(event, "agencyId"),
        parseJsonBody(event.body),
      ),
    }),
    "GET /v1/systems": async (event) => {
      const caller = authenticatedCaller(event);
      return {
        status: 200,
        body: await registry().listSystems(caller, queryParameters(event, systemListQuery), pagination(event)),
      };
    },
    "POST /v1/systems/{systemId}/keys": async (event) => ({
      status: 201,
      body: await registry().addKey(
        authenticatedCaller(event),
        pathParameter(event, "systemId"),
        parseJsonBody(event.body),
      ),
    }),
    "PATCH /v1/systems/{systemId}": async (event) => ({
      status: 200,
      body: await registry().changeEndpoint(
        authenticatedCaller(event),
        pathParameter(event, "systemId"),
        parseJsonBody(event.body),
      ),
    }),
    "POST /v1/systems/{systemId}/endpoint/approval": async (event) => ({
      status: 200,
      body: await registry().approveEndpoint(
        authenticatedCaller(event),
        pathParameter(event, "systemId"),
        parseJsonBody(event.body),
      ),
    }),
    "DELETE /v1/systems/{systemId}/keys/{kid}": async (event) => ({
      status: 200,
      body: await registry().revokeKey(
        authenticatedCaller(event),
        pathParameter(event, "systemId"),
        pathParameter(event, "kid"),
      ),
    }),
  }),
);
