import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { Identity } from "../constructs/identity.ts";
import type { StageConfig } from "../stage.ts";
import type { DataStack } from "./data-stack.ts";

export interface IdentityStackProps extends StackProps {
  readonly stage: StageConfig;
  readonly version: string;
  readonly data: DataStack;
  /** The `aud` request tokens must name. */
  readonly audience: string;
}

/**
 * Who is calling: the function behind the API's request authoriser and the one-time bootstrap of
 * the operator's key. Apart from the capabilities because the API stack needs the authoriser
 * before any capability can attach a signed method.
 */
export class IdentityStack extends Stack {
  readonly identity: Identity;

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const { stores, queues } = props.data;
    this.identity = new Identity(this, "Identity", {
      logQueue: queues.exchangeLog,
      encryptionKey: stores.key,
      registryTable: stores.registryTable,
      replayTable: stores.replayTable,
      audience: props.audience,
      stage: props.stage,
      version: props.version,
    });
    new CfnOutput(this, "BootstrapFunctionName", {
      value: this.identity.bootstrapFunction.functionName,
      description: "Invoke once to register the operator's key (npm run bootstrap)",
    });
  }
}
