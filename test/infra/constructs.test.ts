import { App, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { IdentitySource, RequestAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import { Key } from "aws-cdk-lib/aws-kms";
import { Code, Function as LambdaFunction, Runtime } from "aws-cdk-lib/aws-lambda";
import { describe, expect, it } from "vitest";
import { routes } from "../../api/route.ts";
import { healthEnvironment } from "../../lambdas/health/environment.ts";
import { apiIntegration } from "../../lib/constructs/api-integration.ts";
import { addRoutes } from "../../lib/constructs/api-routes.ts";
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

describe("addRoutes", () => {
  const success = { status: 200, description: "Done", schema: { inline: { type: "object" } } };
  const table = routes({
    addThing: { method: "POST", path: "/v1/things", tag: "T", summary: "Add", auth: "signed", success, problems: [] },
    getThing: {
      method: "GET",
      path: "/v1/things/{code}",
      tag: "T",
      summary: "One",
      auth: { public: "Things are public by design, for this test of the helper's acknowledgement." },
      success,
      problems: [],
    },
  });
  const setUp = () => {
    const stack = new Stack(new App(), "RoutesTest");
    const api = new RestApi(stack, "Api");
    const handler = new LambdaFunction(stack, "Handler", {
      runtime: Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: Code.fromInline("exports.handler = async () => ({ statusCode: 200 })"),
    });
    const authorizer = new RequestAuthorizer(stack, "Authorizer", {
      handler,
      identitySources: [IdentitySource.header("Authorization")],
    });
    return { stack, api, handler, authorizer };
  };

  it("adds each route as a proxied method, the authoriser on signed ones, the descriptor's reason on public ones", () => {
    const { stack, api, handler, authorizer } = setUp();

    const methods = addRoutes({ api, authorizer, handler, routes: table });
    const template = Template.fromStack(stack);

    expect(methods.map((method) => `${method.httpMethod} ${method.resource.path}`)).toEqual([
      "POST /v1/things",
      "GET /v1/things/{code}",
    ]);
    template.hasResourceProperties("AWS::ApiGateway::Method", {
      HttpMethod: "POST",
      AuthorizationType: "CUSTOM",
      Integration: { Type: "AWS_PROXY" },
    });
    template.hasResourceProperties("AWS::ApiGateway::Method", {
      HttpMethod: "GET",
      AuthorizationType: "NONE",
      Integration: { Type: "AWS_PROXY" },
    });
    const acknowledged = (index: number) =>
      (methods[index]?.node.metadata ?? [])
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
    expect(acknowledged(1)).toEqual([[expect.stringContaining("AwsSolutions-APIG4"), table.getThing.auth.public]]);
    expect(acknowledged(0)).toEqual([]);
  });

  it("refuses a signed route without the request authoriser", () => {
    const { api, handler } = setUp();

    expect(() => addRoutes({ api, handler, routes: table })).toThrow("addThing is signed");
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
