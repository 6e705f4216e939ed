import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import { PlatformApi } from "../constructs/platform-api.ts";
import type { StageConfig } from "../stage.ts";

export interface ApiStackProps extends StackProps {
  readonly stage: StageConfig;
  /** The `aud` request tokens must name. */
  readonly audience: string;
  /** The function behind the request authoriser. */
  readonly authorizerFunction: IFunction;
}

/**
 * The one REST API in front of every exchange: stage, WAF, gateway responses, the request
 * authoriser, and every method (the capabilities add theirs; see `apiIntegration`). It depends
 * on the stacks whose functions its methods invoke; none of them refers back to it.
 */
export class ApiStack extends Stack {
  readonly platformApi: PlatformApi;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    this.platformApi = new PlatformApi(this, "PlatformApi", {
      stage: props.stage,
      authorizerFunction: props.authorizerFunction,
    });
    const { api } = this.platformApi;
    new CfnOutput(this, "ApiUrl", { value: api.url, description: "Base URL of the DSCP API (stage included)" });
    new CfnOutput(this, "ApiId", { value: api.restApiId, description: "REST API id (LocalStack builds URLs from it)" });
    new CfnOutput(this, "ApiStage", { value: api.deploymentStage.stageName, description: "API stage name" });
    new CfnOutput(this, "PlatformAudience", {
      value: props.audience,
      description: "The aud every request token names",
    });
  }
}
