import type { StackProps } from "aws-cdk-lib";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { StageConfig } from "../stage.ts";
import type { DataStack } from "./data-stack.ts";

/** What every stack of capabilities is built from: the stores, and the API its routes join. */
export interface CapabilityStackProps extends StackProps {
  readonly stage: StageConfig;
  readonly version: string;
  readonly data: DataStack;
  /** The API the capabilities' methods are added to (they live in the API's stack). */
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
}
