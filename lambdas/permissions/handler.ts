import type { APIGatewayProxyEvent } from "aws-lambda";
import { DynamoCatalogStore } from "../../adapters/dynamodb/catalog-store.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoPermissionStore } from "../../adapters/dynamodb/permission-store.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { permissionRoutes } from "../../api/permissions.ts";
import { type PermissionListFilter, permissionListQuery } from "../../domain/permissions/model.ts";
import { PermissionService } from "../../domain/permissions/permission-service.ts";
import { parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { created, httpHandler, ok } from "../shared/http.ts";
import { dispatch, pagination, pathParameter, queryParameters } from "../shared/routes.ts";
import { permissionsEnvironment } from "./environment.ts";

const environment = lazyEnvironment(permissionsEnvironment);
let service: PermissionService | undefined;
const permissions = () => {
  const env = environment();
  const client = dynamoDbClient();
  service ??= new PermissionService(
    new DynamoPermissionStore(client, env.PERMISSIONS_TABLE_NAME),
    new DynamoCatalogStore(client, env.REGISTRY_TABLE_NAME),
    new DynamoRegistryStore(client, env.REGISTRY_TABLE_NAME),
  );
  return service;
};

function listQuery(event: APIGatewayProxyEvent): { view?: string; filter: PermissionListFilter } {
  const { view, ...filter } = queryParameters(event, permissionListQuery);
  return { ...(view ? { view } : {}), filter };
}

/** Access requests, decisions, mandatory grants and revocations. */
export const handler = httpHandler(
  dispatch(permissionRoutes, {
    requestAccess: async (event) =>
      created(permissions().request(authenticatedCaller(event), parseJsonBody(event.body))),
    listAccessRequests: async (event) => {
      const caller = authenticatedCaller(event);
      const { view, filter } = listQuery(event);
      return ok(permissions().listRequests(caller, view, filter, pagination(event)));
    },
    decideAccessRequest: async (event) =>
      ok(
        permissions().decide(authenticatedCaller(event), pathParameter(event, "requestId"), parseJsonBody(event.body)),
      ),
    grantMandatory: async (event) =>
      created(permissions().grantMandatory(authenticatedCaller(event), parseJsonBody(event.body))),
    listPermissions: async (event) => {
      const caller = authenticatedCaller(event);
      const { view, filter } = listQuery(event);
      return ok(permissions().listPermissions(caller, view, filter, pagination(event)));
    },
    revokePermission: async (event) =>
      ok(
        permissions().revoke(
          authenticatedCaller(event),
          pathParameter(event, "permissionId"),
          parseJsonBody(event.body),
        ),
      ),
  }),
);
