import { App, Stack } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { INTEGRATED_KEY_PREFIXES } from "../../adapters/dynamodb/integrated-keys.ts";
import { agentNodeRoutes } from "../../api/agent-nodes.ts";
import { OPERATIONS, ROUTE_TABLES } from "../../api/operations.ts";
import { oversightRoutes } from "../../api/oversight.ts";
import { registryRoutes } from "../../api/registry.ts";
import { isSigned, routeKey } from "../../api/route.ts";
import { violationRoutes } from "../../api/violations.ts";
import { BODY_LIMIT_BYTES, BULK_BODY_ROUTES } from "../../lib/constructs/platform-api.ts";
import { temporaryDir } from "../runtime/helpers.ts";
import { type PluginReport, type Synthesized, synthesizePlatform, synthesizeWithNag } from "./synth.ts";

let local: Synthesized;
let prod: Synthesized;

beforeAll(() => {
  local = synthesizePlatform("local");
  prod = synthesizePlatform("prod");
});

const nagReports = (reports: PluginReport[]) =>
  reports.filter((report) => /AwsSolutions|Serverless/i.test(report.pluginName));

describe("cdk-nag", () => {
  it("reports a known violation in any stack of the app, so a clean platform report means something", () => {
    const outdir = temporaryDir("nag-control");
    const app = new App({ outdir });
    const clean = new Stack(app, "NagControlFirst");
    const stack = new Stack(app, "NagControl");
    new Bucket(stack, "Careless");

    const synthesized = synthesizeWithNag(app, [clean, stack], outdir);
    const rules = nagReports(synthesized.report).flatMap((report) => report.violations.map((item) => item.ruleName));

    expect(synthesized.error).toBeDefined();
    expect(rules).toEqual(expect.arrayContaining([expect.stringContaining("S10")]));
  });

  it.each(["local", "prod"] as const)("finds nothing unacknowledged in the %s stage", (stage) => {
    const synthesized = stage === "local" ? local : prod;
    const violations = nagReports(synthesized.report).flatMap((report) =>
      report.violations.map(
        (violation) => `${violation.ruleName} at ${violation.violatingConstructs[0]?.constructPath}`,
      ),
    );

    expect(violations).toEqual([]);
    expect(synthesized.error).toBeUndefined();
  });

  it("gives every acknowledged finding a written reason", () => {
    expect(local.acknowledgments.length).toBeGreaterThan(0);
    for (const acknowledgment of local.acknowledgments) {
      expect(acknowledgment.reason.length, `${acknowledgment.id} at ${acknowledgment.path}`).toBeGreaterThan(40);
    }
  });
});

/** CloudFormation refuses a stack of more than 500 resources; the platform keeps room to grow. */
const STACK_RESOURCE_LIMIT = 300;

describe("stacks", () => {
  it.each(["local", "prod"] as const)("keep every stack of the %s stage under 300 resources", (stage) => {
    const sizes = Object.entries((stage === "local" ? local : prod).stacks).map(
      ([name, template]) => [name, Object.keys(template.toJSON().Resources ?? {}).length] as const,
    );

    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes.filter(([, size]) => size > STACK_RESOURCE_LIMIT)).toEqual([]);
  });

  it("keep every table, bucket, key and queue in the data stack, and no compute there", () => {
    const stateful = ["AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::SQS::Queue"];
    const compute = ["AWS::Lambda::Function", "AWS::StepFunctions::StateMachine", "AWS::ApiGateway::RestApi"];
    const typesIn = (name: string) =>
      new Set(
        Object.values((local.stacks[name]?.toJSON().Resources ?? {}) as Record<string, { Type: string }>).map(
          (resource) => resource.Type,
        ),
      );

    for (const [name] of Object.entries(local.stacks)) {
      const types = typesIn(name);
      if (name === "Dscp-local-Data") {
        expect(
          [...types].filter((type) => compute.includes(type)),
          name,
        ).toEqual([]);
        expect(
          stateful.every((type) => types.has(type)),
          name,
        ).toBe(true);
      } else {
        expect(
          [...types].filter((type) => stateful.includes(type)),
          name,
        ).toEqual([]);
      }
    }
  });

  it("retain every table, bucket, key, queue and log group in prod, and destroy them elsewhere but the locked log archive", () => {
    const stateful = [
      "AWS::DynamoDB::Table",
      "AWS::S3::Bucket",
      "AWS::KMS::Key",
      "AWS::SQS::Queue",
      "AWS::Logs::LogGroup",
    ];
    const policies = (synthesized: Synthesized) =>
      Object.entries(synthesized.template.toJSON().Resources as Record<string, Record<string, unknown>>)
        .filter(([, resource]) => stateful.includes(String(resource.Type)))
        .map(([id, resource]) => ({
          id,
          deletion: resource.DeletionPolicy,
          replacement: resource.UpdateReplacePolicy,
        }));

    expect(policies(prod).length).toBeGreaterThan(30);
    for (const { id, deletion, replacement } of policies(prod)) {
      expect({ id, deletion, replacement }).toEqual({ id, deletion: "Retain", replacement: "Retain" });
    }
    for (const { id, deletion } of policies(local)) {
      expect({ id, deletion }).toEqual({
        id,
        deletion: id.startsWith("DataStoresLogArchiveBucket") ? "Retain" : "Delete",
      });
    }
  });

  it("let API Gateway invoke each function it integrates once, from the API's deployed stage only", () => {
    type Resource = {
      Type: string;
      Properties: { Integration?: { Uri: unknown }; Principal?: string; SourceArn?: unknown };
    };
    const api = local.stacks["Dscp-local-Api"]?.toJSON().Resources as Record<string, Resource>;
    const integrated = new Set(
      Object.values(api)
        .filter((resource) => resource.Type === "AWS::ApiGateway::Method")
        .map((resource) => JSON.stringify(resource.Properties.Integration?.Uri)),
    );
    const permissions = Object.values(api).filter(
      (resource) =>
        resource.Type === "AWS::Lambda::Permission" && resource.Properties.Principal === "apigateway.amazonaws.com",
    );
    const [apiId] = Object.keys(api).filter((id) => api[id]?.Type === "AWS::ApiGateway::RestApi");

    // One per integrated function, and one for the request authoriser.
    expect(permissions).toHaveLength(integrated.size + 1);
    for (const permission of permissions) {
      const sourceArn = JSON.stringify(permission.Properties.SourceArn);
      expect(sourceArn).toContain(`{"Ref":"${apiId}"}`);
      // The stage (`…/<stage>/*/*`: any method and path of it), or the authoriser.
      expect(sourceArn).toMatch(/"\/",\{"Ref":"PlatformApiDeploymentStagelocal\w+"\},"\/\*\/\*"|"\/authorizers\/"/);
    }
  });
});

describe("functions", () => {
  it("run Node.js 22 on arm64 with active tracing and JSON logs into their own log group", () => {
    const functions = local.template.findResources("AWS::Lambda::Function");

    expect(Object.keys(functions).length).toBeGreaterThan(0);
    for (const fn of Object.values(functions)) {
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        TracingConfig: { Mode: "Active" },
        LoggingConfig: { LogFormat: "JSON", LogGroup: { Ref: expect.any(String) } },
      });
    }
  });

  it("carry the base environment contract", () => {
    local.template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({
          DSCP_STAGE: "local",
          DSCP_VERSION: Match.stringLikeRegexp("^\\d+\\.\\d+\\.\\d+"),
          POWERTOOLS_SERVICE_NAME: "dscp-health",
          POWERTOOLS_METRICS_NAMESPACE: "DSCP",
        }),
      },
    });
  });

  it("bound the exchange function and the deliverer outside local, and trace no function's response", () => {
    prod.template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: "dscp-exchange" }) },
      ReservedConcurrentExecutions: 400,
    });
    prod.template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: Match.anyValue(),
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    for (const fn of Object.values(local.template.findResources("AWS::Lambda::Function"))) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
      expect(fn.Properties.Environment.Variables.POWERTOOLS_TRACER_CAPTURE_RESPONSE).toBe("false");
    }
  });

  it("give the authoriser its registry cache bound: none locally, 30 s in prod", () => {
    const bound = (synthesized: Synthesized) =>
      Match.objectLike({
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: "dscp-authorizer",
            REGISTRY_CACHE_SECONDS: synthesized === prod ? "30" : "0",
          }),
        },
      });
    local.template.hasResourceProperties("AWS::Lambda::Function", bound(local));
    prod.template.hasResourceProperties("AWS::Lambda::Function", bound(prod));
  });

  it("give the exchange function its permission cache bound: none locally, 10 s in prod", () => {
    const bound = (synthesized: Synthesized) =>
      Match.objectLike({
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: "dscp-exchange",
            PERMISSION_CACHE_SECONDS: synthesized === prod ? "10" : "0",
          }),
        },
      });
    local.template.hasResourceProperties("AWS::Lambda::Function", bound(local));
    prod.template.hasResourceProperties("AWS::Lambda::Function", bound(prod));
  });

  it("may write only to their own log group, not through AWSLambdaBasicExecutionRole", () => {
    for (const role of Object.values(local.template.findResources("AWS::IAM::Role"))) {
      expect(JSON.stringify(role.Properties.ManagedPolicyArns ?? [])).not.toContain("AWSLambdaBasicExecutionRole");
    }
  });

  it("keep logs a week outside prod and a year in prod", () => {
    local.template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 7 });
    prod.template.allResourcesProperties("AWS::Logs::LogGroup", { RetentionInDays: 365 });
  });
});

describe("data stores", () => {
  it("encrypt the registry table with the platform key and keep point-in-time recovery", () => {
    local.template.hasResourceProperties("AWS::DynamoDB::Table", {
      SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: Match.anyValue() },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    local.template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
  });

  it("destroy data with the stack outside prod and retain it in prod", () => {
    local.template.hasResource("AWS::DynamoDB::Table", { DeletionPolicy: "Delete" });
    prod.template.hasResource("AWS::DynamoDB::Table", { DeletionPolicy: "Retain" });
    prod.template.hasResourceProperties("AWS::DynamoDB::Table", { DeletionProtectionEnabled: true });
    prod.template.allResources("AWS::S3::Bucket", { DeletionPolicy: "Retain" });
    prod.template.allResources("AWS::KMS::Key", { DeletionPolicy: "Retain" });
  });

  it("block public access on every bucket and refuse requests without TLS", () => {
    local.template.allResourcesProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.anyValue(),
    });
    const policies = Object.values(local.template.findResources("AWS::S3::BucketPolicy"));
    expect(policies).toHaveLength(Object.keys(local.template.findResources("AWS::S3::Bucket")).length);
    for (const policy of policies) {
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it("expire batch files and partitions after 30 days and abort abandoned multipart uploads", () => {
    local.template.hasResourceProperties("AWS::S3::Bucket", {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Id: "abandoned-multipart", AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
          Match.objectLike({ Id: "expire-uploads", Prefix: "uploads/", ExpirationInDays: 30 }),
          Match.objectLike({ Id: "expire-batches", Prefix: "batches/", ExpirationInDays: 30 }),
        ]),
      },
    });
  });

  it("encrypt the uploads, exports and log-archive buckets with the platform key", () => {
    const kmsBuckets = Object.values(local.template.findResources("AWS::S3::Bucket")).filter((bucket) =>
      JSON.stringify(bucket.Properties.BucketEncryption).includes("aws:kms"),
    );
    expect(kmsBuckets).toHaveLength(3);
  });
});

describe("least privilege per item", () => {
  type Statement = {
    Action: string | string[];
    Resource: unknown;
    Condition?: Record<string, Record<string, string[]>>;
  };
  const WRITES = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"];

  /** Every statement that lets a role write the registry table, by the policy holding it. */
  function registryWrites(synthesized: Synthesized): Array<{ policy: string; statement: Statement }> {
    return tableWrites(synthesized, "DataStoresRegistryTable");
  }

  /** Every statement that lets a role write the table whose logical id starts with `tableId`. */
  function tableWrites(synthesized: Synthesized, tableId: string): Array<{ policy: string; statement: Statement }> {
    const [table] = Object.keys(synthesized.template.findResources("AWS::DynamoDB::Table")).filter((id) =>
      id.startsWith(tableId),
    );
    return Object.entries(synthesized.template.findResources("AWS::IAM::Policy")).flatMap(([policy, resource]) =>
      (resource.Properties.PolicyDocument.Statement as Statement[])
        .filter((statement) => [statement.Action].flat().some((action) => WRITES.includes(action)))
        .filter((statement) => JSON.stringify(statement.Resource).includes(`"${table}"`))
        .map((statement) => ({ policy, statement })),
    );
  }

  it.each(["local", "prod"] as const)(
    "let only the registry and bootstrap functions write agencies, systems and keys in the %s stage",
    (stage) => {
      const writes = registryWrites(stage === "local" ? local : prod);
      const unconditioned = writes.filter(({ statement }) => !statement.Condition).map(({ policy }) => policy);
      const prefixes = writes.flatMap(
        ({ statement }) => statement.Condition?.["ForAllValues:StringLike"]?.["dynamodb:LeadingKeys"] ?? [],
      );

      expect(unconditioned.map((policy) => policy.replace(/FunctionRoleDefaultPolicy.*$/, "")).sort()).toEqual([
        "IdentityBootstrap",
        "Registry",
      ]);
      expect(writes.length).toBeGreaterThan(unconditioned.length);
      expect(prefixes.filter((prefix) => /^(SYSTEM|AGENCY)#/.test(prefix) || !prefix.endsWith("#*"))).toEqual([]);
    },
  );

  it.each(["local", "prod"] as const)(
    "let only the sync functions write the integrated table's records; every other write names its prefixes in the %s stage",
    (stage) => {
      const writes = tableWrites(stage === "local" ? local : prod, "DataStoresIntegratedTable");
      const unconditioned = writes.filter(({ statement }) => !statement.Condition).map(({ policy }) => policy);
      const prefixes = writes.flatMap(
        ({ statement }) => statement.Condition?.["ForAllValues:StringLike"]?.["dynamodb:LeadingKeys"] ?? [],
      );

      expect(unconditioned.length).toBeGreaterThan(0);
      expect(unconditioned.filter((policy) => !policy.startsWith("Sync"))).toEqual([]);
      expect(writes.length).toBeGreaterThan(unconditioned.length);
      expect(prefixes.filter((prefix) => !/^[A-Z]+#\*$/.test(prefix))).toEqual([]);
    },
  );

  it("let delivery and export write only the items their stores key with the shared prefixes", () => {
    const writesOf = (role: string) => {
      const found = tableWrites(local, "DataStoresIntegratedTable").filter(({ policy }) =>
        policy.startsWith(`${role}FunctionRole`),
      );
      return Object.fromEntries(
        found.map(({ statement }) => [
          [statement.Action].flat().join(","),
          statement.Condition?.["ForAllValues:StringLike"]?.["dynamodb:LeadingKeys"],
        ]),
      );
    };
    const { subscription, inbox, delivery, batch } = INTEGRATED_KEY_PREFIXES;
    const like = (...prefixes: string[]) => prefixes.map((prefix) => `${prefix}*`);

    expect(writesOf("DeliveryDeliverer")).toEqual({
      "dynamodb:PutItem": like(inbox),
      "dynamodb:UpdateItem": like(delivery, batch),
    });
    expect(writesOf("DeliveryApi")).toEqual({
      "dynamodb:PutItem": like(subscription),
      "dynamodb:DeleteItem": like(subscription, inbox),
      "dynamodb:UpdateItem": like(delivery, batch),
    });
    expect(writesOf("ExportJob")).toEqual({ "dynamodb:UpdateItem": like(INTEGRATED_KEY_PREFIXES.export) });
    expect(writesOf("ExportApi")).toEqual({ "dynamodb:PutItem": like(INTEGRATED_KEY_PREFIXES.export) });
  });

  it("let the catalog and dictionary (public routes) write their own items only", () => {
    const conditionOf = (name: string) =>
      registryWrites(local).find(({ policy }) => policy.startsWith(`${name}FunctionRole`))?.statement.Condition;

    expect(conditionOf("Catalog")).toEqual({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["DATASET#*"] } });
    expect(conditionOf("Dictionary")).toEqual({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["FIELD#*", "CODELIST#*", "SCHEMA#*", "MASTER#*"] },
    });
  });
});

describe("API", () => {
  it("names its stage after the deployment stage, with access logs, tracing and throttling", () => {
    local.template.hasResourceProperties("AWS::ApiGateway::Stage", {
      StageName: "local",
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp("requestId") },
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200, LoggingLevel: "INFO" }),
      ]),
    });
    prod.template.hasResourceProperties("AWS::ApiGateway::Stage", {
      StageName: "prod",
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 500 })]),
    });
  });

  it("writes execution logs at ERROR in prod, never data trace, and samples 5 % of prod's traces", () => {
    prod.template.hasResourceProperties("AWS::ApiGateway::Stage", {
      MethodSettings: Match.arrayWith([Match.objectLike({ LoggingLevel: "ERROR", DataTraceEnabled: false })]),
    });
    local.template.hasResourceProperties("AWS::ApiGateway::Stage", {
      MethodSettings: Match.arrayWith([Match.objectLike({ DataTraceEnabled: false })]),
    });
    prod.template.hasResourceProperties("AWS::XRay::SamplingRule", {
      SamplingRule: Match.objectLike({ FixedRate: 0.05, ReservoirSize: 1, ServiceType: "AWS::ApiGateway::Stage" }),
    });
    local.template.resourceCountIs("AWS::XRay::SamplingRule", 0);
  });

  it("never caches the authoriser's results, and answers a function at its limit or a failed authoriser with 503 and Retry-After", () => {
    local.template.hasResourceProperties("AWS::ApiGateway::Authorizer", { AuthorizerResultTtlInSeconds: 0 });
    for (const type of ["INTEGRATION_FAILURE", "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"]) {
      local.template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
        ResponseType: type,
        StatusCode: "503",
        ResponseParameters: Match.objectLike({ "gatewayresponse.header.Retry-After": "'1'" }),
        ResponseTemplates: { "application/json": Match.stringLikeRegexp("dependency-unavailable") },
      });
    }
  });

  it("answers its own errors with RFC 9457 problem details carrying the transaction id", () => {
    for (const type of [
      "UNAUTHORIZED",
      "ACCESS_DENIED",
      "MISSING_AUTHENTICATION_TOKEN",
      "DEFAULT_4XX",
      "DEFAULT_5XX",
    ]) {
      local.template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
        ResponseType: type,
        ResponseParameters: Match.objectLike({
          "gatewayresponse.header.Content-Type": "'application/problem+json'",
          "gatewayresponse.header.X-Transaction-Id": "context.requestId",
        }),
        ResponseTemplates: { "application/json": Match.stringLikeRegexp("urn:dscp:problem:") },
      });
    }
  });

  it("sits behind a WAF web ACL with AWS managed rules", () => {
    local.template.hasResourceProperties("AWS::WAFv2::WebACL", {
      Scope: "REGIONAL",
      Rules: Match.arrayWith([Match.objectLike({ Name: "AWSManagedRulesCommonRuleSet" })]),
    });
    local.template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 1);
  });

  it("lets the bulk routes take bodies beyond the common rule set's 8 KB, and blocks bodies over 64 KB elsewhere", () => {
    const [acl] = Object.values(local.template.findResources("AWS::WAFv2::WebACL"));
    type Rule = { Name: string; Action?: unknown; Statement: Record<string, Record<string, unknown>> };
    const rules = acl?.Properties.Rules as Rule[];
    const common = rules.find((rule) => rule.Name === "AWSManagedRulesCommonRuleSet");
    const size = rules.find((rule) => rule.Name === "BodySizeOutsideBulkRoutes");
    const [limit, notBulk] = (size?.Statement.AndStatement?.Statements ?? []) as [
      { SizeConstraintStatement: Record<string, unknown> },
      { NotStatement: { Statement: { RegexMatchStatement: { RegexString: string } } } },
    ];
    const bulk = new RegExp(notBulk.NotStatement.Statement.RegexMatchStatement.RegexString);

    expect(common?.Statement.ManagedRuleGroupStatement?.RuleActionOverrides).toEqual([
      { Name: "SizeRestrictions_BODY", ActionToUse: { Count: {} } },
    ]);
    expect(size?.Action).toEqual({ Block: {} });
    expect(limit.SizeConstraintStatement).toMatchObject({
      FieldToMatch: { Body: { OversizeHandling: "MATCH" } },
      ComparisonOperator: "GT",
      Size: BODY_LIMIT_BYTES,
    });
    expect(acl?.Properties.AssociationConfig).toEqual({
      RequestBody: { API_GATEWAY: { DefaultSizeInspectionLimit: "KB_64" } },
    });
    expect(BODY_LIMIT_BYTES).toBe(64 * 1024);
    for (const path of [
      "/local/v1/sync/MPS.POPULATION.REGISTER/batches",
      "/v1/sync/batches/b-1/complete",
      "/local/v1/dictionary/schemas",
      "/local/v1/dictionary/schemas/MPS.CITIZEN/versions/1.0.0/validate",
      "/local/v1/dictionary/code-lists/GENDER/entries",
      "/local/v1/datasets/MPS.POPULATION.CITIZENS",
    ]) {
      expect(bulk.test(path), path).toBe(true);
    }
    for (const path of ["/local/v1/inbox/ack", "/local/v1/access-requests", "/local/v1/sync/X/batches/extra"]) {
      expect(bulk.test(path), path).toBe(false);
    }
    expect(apiMethods(local).filter(({ route }) => BULK_BODY_ROUTES.includes(route as never))).toHaveLength(
      BULK_BODY_ROUTES.length,
    );
  });

  it("puts the request authoriser on every method but health, the public catalog and dictionary, the master-data list, the platform's key set, the log's checkpoints, public disclosure, the API description and the exchange routes (which verify tokens in their function)", () => {
    const methods = apiMethods(local);
    const inFunction = ["GET /v1/exchange/{datasetId}/records/{key}", "POST /v1/exchange/{datasetId}/query"];
    const publicRoutes = [
      ...inFunction,
      "GET /v1/health",
      "GET /v1/catalog/datasets",
      "GET /v1/catalog/datasets/{datasetId}",
      "GET /v1/platform/keys",
      "GET /v1/openapi.json",
      "GET /v1/dictionary/fields",
      "GET /v1/dictionary/fields/{code}",
      "GET /v1/dictionary/code-lists",
      "GET /v1/dictionary/code-lists/{code}",
      "GET /v1/dictionary/code-lists/{code}/entries",
      "GET /v1/dictionary/schemas",
      "GET /v1/dictionary/schemas/{schemaId}/versions",
      "GET /v1/dictionary/schemas/{schemaId}/versions/{version}",
      "GET /v1/dictionary/schemas/{schemaId}/versions/{version}/json-schema",
      "GET /v1/master-data",
      "GET /v1/logs/checkpoints",
      "GET /v1/logs/checkpoints/latest",
      "GET /v1/public",
      "GET /v1/public/rankings/{year}",
      "GET /v1/public/compliance",
      "GET /v1/public/connections",
      "GET /v1/public/exchange-figures",
    ];

    expect(
      methods
        .filter((method) => method.authorization === "NONE")
        .map((method) => method.route)
        .sort(),
    ).toEqual(publicRoutes.sort());
    expect(
      methods
        .filter((method) => !publicRoutes.includes(method.route))
        .every((method) => method.authorization === "CUSTOM"),
    ).toBe(true);
    // No identity source and no cache: API Gateway calls the authoriser even without a token, so
    // unsigned attempts are logged too.
    local.template.hasResourceProperties("AWS::ApiGateway::Authorizer", {
      Type: "REQUEST",
      IdentitySource: Match.absent(),
      AuthorizerResultTtlInSeconds: 0,
    });
  });

  it("describes every method it serves in the OpenAPI document, the authoriser exactly where the descriptors put it", () => {
    const served = apiMethods(local)
      .map((method) => `${method.route} ${method.authorization === "CUSTOM" ? "authoriser" : "none"}`)
      .sort();
    const described = OPERATIONS.map(
      (operation) => `${operation.method} ${operation.path} ${operation.auth === "signed" ? "authoriser" : "none"}`,
    ).sort();

    expect(described).toEqual(served);
  });

  it("lets only the exchange routes skip the authoriser while signed, their function verifying tokens as it would", () => {
    const inFunction = OPERATIONS.filter((operation) => operation.auth === "signed-in-function");

    expect(inFunction.map((operation) => operation.operationId).sort()).toEqual(["getRecord", "queryRecords"]);
    expect(inFunction.every(isSigned)).toBe(true);
    local.template.hasResourceProperties("AWS::Lambda::Function", {
      Description: Match.stringLikeRegexp("^DSCP exchange"),
      Environment: {
        Variables: Match.objectLike({ REPLAY_TABLE_NAME: Match.anyValue(), REGISTRY_CACHE_SECONDS: "0" }),
      },
    });
  });

  it("serves each route table from one function of its own, as the handler that dispatches on it", () => {
    const served = new Map(apiMethods(local).map((method) => [method.route, method.function]));
    const functionOfTable = ROUTE_TABLES.map((table) => [
      ...new Set(Object.values(table).map((route) => served.get(routeKey(route)))),
    ]);

    for (const functions of functionOfTable) {
      expect(functions).toHaveLength(1);
      expect(functions[0]).toBeDefined();
    }
    // One function per table, but the registry's, which serves the Agent Nodes' table too, and
    // the oversight API's, which serves the violations' table too.
    expect(new Set(functionOfTable.flat()).size).toBe(ROUTE_TABLES.length - 2);
    expect(served.get(routeKey(agentNodeRoutes.setAgentConfig))).toBe(served.get(routeKey(registryRoutes.addKey)));
    expect(served.get(routeKey(violationRoutes.answerViolation))).toBe(
      served.get(routeKey(oversightRoutes.getCompliance)),
    );
  });

  it("serves GET /v1/health without authorisation", () => {
    local.template.hasResourceProperties("AWS::ApiGateway::Method", { HttpMethod: "GET", AuthorizationType: "NONE" });
    local.template.hasResourceProperties("AWS::ApiGateway::Resource", { PathPart: "health" });
  });
});

describe("monitoring (Art. 13)", () => {
  it("has a dashboard of exchanges, the API, deliveries, dead letters, state machines, the log, batches and oversight", () => {
    const dashboards = local.template.findResources("AWS::CloudWatch::Dashboard");
    const body = JSON.stringify(Object.values(dashboards)[0]?.Properties?.DashboardBody);

    expect(Object.keys(dashboards)).toHaveLength(1);
    for (const title of [
      "Exchanges by outcome",
      "Exchange latency (ms)",
      "Deliveries",
      "Dead letters",
      "State machines and the log",
      "Exchanges by method",
      "Sync batches",
      "Oversight",
    ]) {
      expect(body).toContain(title);
    }
    // The metrics as the functions publish them: the latency under the service alone.
    expect(body).toContain('\\"exchangeLatency\\",\\"service\\",\\"dscp-exchange\\"');
    expect(body).toContain('\\"batchesCompleted\\",\\"service\\",\\"dscp-sync-pipeline\\"');
  });

  it("alarms on the API's error rate and p99 latency, every dead-letter queue, failed executions, dead-lettered deliveries, broken log chains, refused checkpoints and failing scheduled functions, each notifying the encrypted alarm topic", () => {
    const alarms = Object.values(local.template.findResources("AWS::CloudWatch::Alarm"));
    const described = alarms.map((alarm) => String(alarm.Properties?.AlarmDescription));
    const byMetric = (name: string) => alarms.filter((alarm) => JSON.stringify(alarm.Properties).includes(`"${name}"`));

    expect(alarms.length).toBe(14);
    expect(byMetric("5XXError")).toHaveLength(1);
    expect(byMetric("Latency")).toHaveLength(1);
    expect(byMetric("ApproximateNumberOfMessagesVisible")).toHaveLength(4);
    expect(byMetric("ExecutionsFailed")).toHaveLength(2);
    expect(byMetric("deliveriesDeadLettered")).toHaveLength(1);
    expect(byMetric("logChainsBroken")).toHaveLength(1);
    expect(byMetric("logCheckpointRefusals")).toHaveLength(1);
    expect(byMetric("Errors")).toHaveLength(3);
    expect(described.every((description) => description.length > 20)).toBe(true);
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^MonitoringAlarms/) }]);
    }
    local.template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: Match.anyValue() });
  });

  it("lets CloudWatch alarms of this account use the key that encrypts the alarm topic, so they can publish to it", () => {
    const topics = Object.values(local.template.findResources("AWS::SNS::Topic"));
    const keyId = JSON.stringify(topics[0]?.Properties?.KmsMasterKeyId);
    const [, key] =
      Object.entries(local.template.findResources("AWS::KMS::Key")).find(([id]) => keyId.includes(id)) ?? [];
    const statements = (key?.Properties?.KeyPolicy?.Statement ?? []) as Array<Record<string, unknown>>;

    expect(statements).toContainEqual(
      expect.objectContaining({
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
        Condition: { StringEquals: { "aws:SourceAccount": expect.anything() } },
      }),
    );
  });

  it("audits every dataset daily through the oversight worker, which reads the log and the permissions it needs and no more", () => {
    local.template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "cron(0 1 * * ? *)",
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
    const policies = Object.entries(local.template.findResources("AWS::IAM::Policy"));
    const [, worker] = policies.find(([id]) => id.startsWith("OversightWorkerFunction")) ?? [];
    const statements = JSON.stringify(worker?.Properties?.PolicyDocument?.Statement);
    expect(statements).toContain("dynamodb:BatchGetItem");
    expect(statements).toContain("/index/byTime");
    expect(statements).toContain("/index/byProviderAgency");
    expect(statements).not.toContain("dynamodb:DeleteItem");
    expect(statements).not.toContain("dynamodb:Scan");
    // It writes audits and rankings, never the integrated database's records.
    const writes = ((worker?.Properties?.PolicyDocument?.Statement ?? []) as Array<Record<string, unknown>>).filter(
      (statement) => JSON.stringify(statement.Action).includes("dynamodb:PutItem"),
    );
    expect(writes).toHaveLength(1);
    expect(writes[0]?.Condition).toEqual({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["AUDIT#*", "RANKING#*"] },
    });
  });

  it("lets the oversight API write audits, rankings and violation cases only, never the integrated database's records", () => {
    const policies = Object.entries(local.template.findResources("AWS::IAM::Policy"));
    const [, api] = policies.find(([id]) => id.startsWith("OversightApiFunction")) ?? [];
    const writes = ((api?.Properties?.PolicyDocument?.Statement ?? []) as Array<Record<string, unknown>>).filter(
      (statement) => JSON.stringify(statement.Action).includes("dynamodb:PutItem"),
    );
    expect(writes).toHaveLength(1);
    expect(writes[0]?.Action).toEqual("dynamodb:PutItem");
    expect(writes[0]?.Condition).toEqual({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["AUDIT#*", "RANKING#*", "VIOLATION#*"] },
    });
  });

  it("verifies the log's chains every hour", () => {
    local.template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 hour)",
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2 } })],
    });
  });
});

describe("exchange log evidence (Art. 13)", () => {
  const archiveOf = (synthesized: Synthesized) => {
    const found = Object.entries(synthesized.template.findResources("AWS::S3::Bucket")).find(([id]) =>
      id.startsWith("DataStoresLogArchiveBucket"),
    );
    if (!found) throw new Error("no log-archive bucket");
    return { id: found[0], bucket: found[1] };
  };

  it("locks every archived object in compliance mode, a day outside prod and ten years in prod, in a bucket kept with the stack", () => {
    for (const [synthesized, days] of [
      [local, 1],
      [prod, 3650],
    ] as const) {
      const { bucket } = archiveOf(synthesized);
      expect(bucket.Properties.ObjectLockEnabled).toBe(true);
      expect(bucket.Properties.ObjectLockConfiguration).toEqual({
        ObjectLockEnabled: "Enabled",
        Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: days } },
      });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: "Enabled" });
      expect(JSON.stringify(bucket.Properties.BucketEncryption)).toContain("aws:kms");
      expect(bucket.DeletionPolicy).toBe("Retain");
    }
  });

  it("lets objects of the archive be created only, never replaced or deleted, and only over TLS", () => {
    const { id } = archiveOf(local);
    const [policy] = Object.values(local.template.findResources("AWS::S3::BucketPolicy")).filter((candidate) =>
      JSON.stringify(candidate.Properties.Bucket).includes(id),
    );
    const statements = (policy?.Properties.PolicyDocument.Statement ?? []) as Array<Record<string, unknown>>;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: "Deny",
          Action: "s3:PutObject",
          Condition: { Null: { "s3:if-none-match": "true" } },
        }),
        expect.objectContaining({ Effect: "Deny", Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"] }),
        expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      ]),
    );
  });

  it("checkpoints the chains' heads every five minutes through the checkpointer, which reads the table, signs with the platform key and writes the archive", () => {
    const functions = local.template.findResources("AWS::Lambda::Function");
    const [checkpointer] = Object.keys(functions).filter((id) => id.startsWith("ExchangeLogCheckpointer"));
    local.template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(5 minutes)",
      Targets: [
        Match.objectLike({ Arn: { "Fn::GetAtt": [checkpointer, "Arn"] }, RetryPolicy: { MaximumRetryAttempts: 2 } }),
      ],
    });
    const [, policy] =
      Object.entries(local.template.findResources("AWS::IAM::Policy")).find(([id]) =>
        id.startsWith("ExchangeLogCheckpointerRole"),
      ) ?? [];
    const statements = JSON.stringify(policy?.Properties.PolicyDocument.Statement);
    expect(statements).toContain('"dynamodb:Query"');
    expect(statements).not.toMatch(/dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/);
    expect(statements).toContain("kms:Sign");
    expect(statements).toContain("/checkpoints/*");
    expect(statements).toContain("/segments/*");
    expect(statements).not.toContain("s3:DeleteObject");
  });

  it("lets the registry function sign Agent Node configurations with the platform key, and do nothing else with that key", () => {
    const [, policy] =
      Object.entries(local.template.findResources("AWS::IAM::Policy")).find(([id]) =>
        id.startsWith("RegistryFunctionRole"),
      ) ?? [];
    const statements = policy?.Properties.PolicyDocument.Statement as Array<{
      Action: string | string[];
      Resource: unknown;
    }>;
    const onSigningKey = statements.filter((statement) =>
      JSON.stringify(statement.Resource).includes("DataStoresSigningKey"),
    );

    expect(onSigningKey.flatMap((statement) => [statement.Action].flat())).toEqual(["kms:Sign"]);
  });

  it("lets the public disclosure function read the rankings' items of the integrated table only, and write nothing", () => {
    const [, policy] =
      Object.entries(local.template.findResources("AWS::IAM::Policy")).find(([id]) =>
        id.startsWith("DisclosureFunctionRole"),
      ) ?? [];
    const statements = policy?.Properties.PolicyDocument.Statement as Array<{
      Action: string | string[];
      Resource: unknown;
      Condition?: Record<string, Record<string, unknown>>;
    }>;
    const onIntegrated = statements.filter((statement) =>
      JSON.stringify(statement.Resource).includes("DataStoresIntegratedTable"),
    );

    expect(JSON.stringify(statements.map((statement) => statement.Action))).not.toMatch(
      /dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem|\*)|s3:|sqs:|kms:(Sign|Encrypt|GenerateDataKey)/,
    );
    expect(onIntegrated).toHaveLength(1);
    expect(onIntegrated[0]?.Condition).toEqual({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["RANKING#*"] },
    });
  });

  it("lets no role but the appender's write the exchange-log table", () => {
    const table = Object.keys(local.template.findResources("AWS::DynamoDB::Table")).find((id) =>
      id.startsWith("DataStoresExchangeLogTable"),
    );
    const writers = Object.entries(local.template.findResources("AWS::IAM::Policy"))
      .filter(([, policy]) =>
        (policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>).some(
          (statement) =>
            JSON.stringify(statement.Resource).includes(`"${table}"`) &&
            /dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem|\*)/.test(JSON.stringify(statement.Action)),
        ),
      )
      .map(([id]) => id.replace(/Role.*$/, ""));

    expect(writers).toEqual(["ExchangeLogAppender"]);
  });

  it("queues entries on a FIFO queue in high-throughput mode: throughput and deduplication per shard", () => {
    local.template.hasResourceProperties("AWS::SQS::Queue", {
      FifoQueue: true,
      FifoThroughputLimit: "perMessageGroupId",
      DeduplicationScope: "messageGroup",
      RedrivePolicy: Match.anyValue(),
    });
  });

  it.each([
    ["local", 8],
    ["prod", 32],
  ] as const)("gives every function of the %s stage that writes or reads the log its %i shards", (stage, shards) => {
    const synthesized = stage === "local" ? local : prod;
    const counts = Object.values(synthesized.template.findResources("AWS::Lambda::Function"))
      .map((fn) => fn.Properties.Environment?.Variables?.LOG_SHARDS)
      .filter((value) => value !== undefined);

    expect(counts.length).toBeGreaterThanOrEqual(8);
    expect(new Set(counts)).toEqual(new Set([String(shards)]));
  });
});

describe("portability", () => {
  it("names no region, account or physical resource name", () => {
    const text = JSON.stringify(local.template.toJSON().Resources);

    expect(text).not.toMatch(/\b\d{12}\b/);
    expect(text).not.toMatch(/\b(us|eu|ap|sa|ca|me|af|il|mx)-(north|south|east|west|central|northeast|southeast)-\d\b/);
    for (const key of ["TableName", "BucketName", "QueueName", "FunctionName", "RoleName", "LogGroupName"]) {
      expect(text).not.toMatch(new RegExp(`"${key}":"`));
    }
  });

  it("outputs what the end-to-end suite needs to find the API", () => {
    const outputs = Object.keys(local.template.toJSON().Outputs ?? {});

    expect(outputs).toEqual(expect.arrayContaining(["ApiUrl", "ApiId", "ApiStage", "RegistryTableName"]));
  });
});

/** Every method of the API as `<METHOD> <path>`, with its authorisation type. */
function apiMethods(synthesized: Synthesized): { route: string; authorization: string; function?: string }[] {
  const resources = synthesized.template.findResources("AWS::ApiGateway::Resource");
  const pathOf = (id: string): string => {
    const resource = resources[id];
    if (!resource) return "";
    const parent = resource.Properties.ParentId;
    return `${parent?.Ref ? pathOf(parent.Ref) : ""}/${resource.Properties.PathPart}`;
  };
  return Object.values(synthesized.template.findResources("AWS::ApiGateway::Method"))
    .filter((method) => method.Properties.HttpMethod !== "OPTIONS")
    .map((method) => ({
      route: `${method.Properties.HttpMethod} ${pathOf(method.Properties.ResourceId.Ref)}`,
      authorization: method.Properties.AuthorizationType,
      // The function the proxy integration invokes, by logical id.
      function: /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(JSON.stringify(method.Properties.Integration?.Uri))?.[1],
    }));
}
