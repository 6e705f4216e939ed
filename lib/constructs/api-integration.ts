import { type CfnElement, CfnResource, Names, Stack } from "aws-cdk-lib";
import { LambdaIntegration, type RestApi } from "aws-cdk-lib/aws-apigateway";
import { CfnPermission, type IFunction, Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";

/**
 * The proxy integration of `handler` into `api`, whichever stacks the two are in. The API's
 * methods refer to the function, so nothing of the function's stack may refer back to the API's:
 * the permission for API Gateway to invoke the function is made in the API's stack, once per
 * function, for any method and path of the API's deployed stage and nothing else (no other API
 * or stage, no console test invocation). One permission per function, instead of CDK's two per
 * method, keeps the API's stack small; a function still serves only the routes its methods name,
 * and its handler answers 404 to any other.
 */
export function apiIntegration(api: RestApi, handler: IFunction): LambdaIntegration {
  const id = `Invoke${functionId(handler)}`;
  let target = api.node.tryFindChild(id) as IFunction | undefined;
  if (!target) {
    // The function seen from the API's stack; CDK's own per-method permissions are skipped.
    target = LambdaFunction.fromFunctionAttributes(api, id, {
      functionArn: handler.functionArn,
      skipPermissions: true,
    });
    new CfnPermission(target, "Permission", {
      action: "lambda:InvokeFunction",
      functionName: handler.functionArn,
      principal: "apigateway.amazonaws.com",
      sourceArn: api.arnForExecuteApi("*", "/*", api.deploymentStage.stageName),
    });
  }
  return new LambdaIntegration(target, { proxy: true });
}

/** The function's logical id in its own stack (stable across stages), or its unique id. */
function functionId(handler: IFunction): string {
  const resource = handler.node.defaultChild;
  return CfnResource.isCfnResource(resource)
    ? Stack.of(handler).getLogicalId(resource as CfnElement)
    : Names.nodeUniqueId(handler.node);
}
