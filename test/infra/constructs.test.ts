import { App, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { RestApi } from "aws-cdk-lib/aws-apigateway";
import { Key } from "aws-cdk-lib/aws-kms";
import { Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { describe, expect, it } from "vitest";
import { healthEnvironment } from "../../lambdas/health/environment.ts";
import { apiIntegration } from "../../lib/constructs/api-integration.ts";
import { DscpFunction } from "../../lib/constructs/dscp-function.ts";
import { WorkQueue } from "../../lib/constructs/work-queue.ts";
import { stageConfig } from "../../lib/stage.ts";

describe("WorkQueue", () => {
  const stack = new Stack(new App(), "QueueTest");
  const key = new Key(stack, "Key");
  const work = new WorkQueue(stack, "Work", {
    encryptionKey: key,
    consumerTimeout: Duration.seconds(30),
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const consumer = new LambdaFunction(stack, "Consumer", {
    runtime: Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: Code.fromInline("exports.handler = async () => ({ batchItemFailures: [] })"),
    timeout: Duration.seconds(30),
  });
  work.connect(consumer, { batchSize: 25, maxBatchingWindow: Duration.seconds(1) });
  const template = Template.fromStack(stack);

  it("sets the visibility timeout to six times the consumer's timeout", () => {
    template.hasResourceProperties("AWS::SQS::Queue", {
      VisibilityTimeout: 180,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
  });

  it("encrypts both queues with the given key and keeps dead letters for 14 days", () => {
    template.allResourcesProperties("AWS::SQS::Queue", { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties("AWS::SQS::Queue", { MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it("refuses non-TLS access to both queues", () => {
    const policies = Object.values(template.findResources("AWS::SQS::QueuePolicy"));
    expect(policies).toHaveLength(2);
    for (const policy of policies) expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
  });

  it("connects the consumer with partial batch responses", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
  });
});

describe("DscpFunction", () => {
  it("refuses at synth an environment that breaks the function's contract", () => {
    const stack = new Stack(new App(), "FunctionTest");

    expect(
      () =>
        new DscpFunction(stack, "Broken", {
          entry: "lambdas/health/handler.ts",
          description: "broken",
          environmentSchema: healthEnvironment,
          environment: { REGISTRY_TABLE_NAME: "" },
          stage: stageConfig("local"),
          version: "1.0.0",
          serviceName: "broken",
        }),
    ).toThrow(/REGISTRY_TABLE_NAME/);
  });
});

describe("apiIntegration", () => {
  const app = new App();
  const compute = new Stack(app, "Compute");
  const fn = new LambdaFunction(compute, "Handler", {
    runtime: Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: Code.fromInline("exports.handler = async () => ({ statusCode: 200 })"),
  });
  const front = new Stack(app, "Front");
  const api = new RestApi(front, "Api", { deployOptions: { stageName: "test" } });
  api.root.addResource("a").addMethod("GET", apiIntegration(api, fn));
  api.root.addResource("b").addMethod("POST", apiIntegration(api, fn));
  const frontTemplate = Template.fromStack(front);

  it("lets the API's stage invoke a function of another stack, with one permission made in the API's stack", () => {
    const permissions = Object.values(frontTemplate.findResources("AWS::Lambda::Permission"));

    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.Properties.Principal).toBe("apigateway.amazonaws.com");
    expect(JSON.stringify(permissions[0]?.Properties.SourceArn)).toMatch(
      /"\/",\{"Ref":"ApiDeploymentStagetest\w+"\},"\/\*\/\*"/,
    );
    Template.fromStack(compute).resourceCountIs("AWS::Lambda::Permission", 0);
  });

  it("leaves the function's stack independent of the API's", () => {
    expect(front.dependencies).toContain(compute);
    expect(compute.dependencies).not.toContain(front);
  });
});
