import { Validations } from "aws-cdk-lib";
import type { IAuthorizer, Method, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { RouteTable } from "../../api/route.ts";
import { apiIntegration } from "./api-integration.ts";

export interface ApiRoutesProps {
  readonly api: RestApi;
  /** Attached to every signed route; needed when the table has one. */
  readonly authorizer?: IAuthorizer;
  /** The function that serves every route of the table. */
  readonly handler: IFunction;
  /** The route descriptors of that function (`api/<capability>.ts`). */
  readonly routes: RouteTable;
}

/**
 * Adds a function's routes to the API from its route descriptors: each method on its resource,
 * proxied to the function, signed ones behind the request authoriser (those its function
 * authenticates itself without it), public ones acknowledged to cdk-nag (AwsSolutions-APIG4) with
 * the reason their descriptor gives.
 */
export function addRoutes(props: ApiRoutesProps): Method[] {
  const integration = apiIntegration(props.api, props.handler);
  return Object.entries(props.routes).map(([operationId, route]) => {
    const resource = props.api.root.resourceForPath(route.path.replace(/^\//, ""));
    if (route.auth === "signed") {
      if (!props.authorizer) throw new Error(`${operationId} is signed: addRoutes needs the request authoriser`);
      return resource.addMethod(route.method, integration, { authorizer: props.authorizer });
    }
    const method = resource.addMethod(route.method, integration);
    if (route.auth === "signed-in-function") {
      const reason = `${operationId} is signed: its function verifies the request token itself, as the request authoriser would (same code, registry cache and replay guard), before anything else, and logs every refusal.`;
      Validations.of(method).acknowledge({ id: "AwsSolutions-APIG4", reason });
      Validations.of(method).acknowledge({ id: "AwsSolutions-COG4", reason });
      return method;
    }
    Validations.of(method).acknowledge({ id: "AwsSolutions-APIG4", reason: route.auth.public });
    return method;
  });
}
