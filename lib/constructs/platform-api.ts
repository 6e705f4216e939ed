import { Duration, Validations } from "aws-cdk-lib";
import {
  AccessLogFormat,
  type CfnAuthorizer,
  EndpointType,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestAuthorizer,
  ResponseType,
  RestApi,
} from "aws-cdk-lib/aws-apigateway";
import { type IFunction, Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import { CfnWebACL, CfnWebACLAssociation } from "aws-cdk-lib/aws-wafv2";
import { CfnSamplingRule } from "aws-cdk-lib/aws-xray";
import { Construct } from "constructs";
import { OPERATIONS } from "../../api/operations.ts";
import { routeKey } from "../../api/route.ts";
import { PROBLEM_CONTENT_TYPE, problemTypeUri, TRANSACTION_ID_HEADER } from "../../domain/problem.ts";
import type { StageConfig } from "../stage.ts";

export interface PlatformApiProps {
  readonly stage: StageConfig;
  /** Verifies signed request tokens (Identity's authoriser function), in whichever stack it is. */
  readonly authorizerFunction: IFunction;
}

/** Problem details API Gateway itself answers with, before any function runs. */
const GATEWAY_PROBLEMS: ReadonlyArray<{
  type: ResponseType;
  slug: string;
  status?: string;
  title?: string;
  detail?: string;
  retryAfterSeconds?: number;
}> = [
  // No Authorization header at all: the authoriser is not even called.
  { type: ResponseType.UNAUTHORIZED, slug: "auth:unauthenticated", status: "401" },
  // The authoriser only authenticates; its Deny carries the reason, so this is a 401 of that type.
  {
    type: ResponseType.ACCESS_DENIED,
    slug: "auth:$context.authorizer.failure",
    status: "401",
    title: "Authentication failed",
    detail: "$context.authorizer.detail",
  },
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, slug: "no-such-route", status: "404" },
  { type: ResponseType.THROTTLED, slug: "throttled", status: "429" },
  // The invoke of a function failed: above all, the function is at its concurrency limit (a
  // proxy integration would otherwise answer a bare 500). Nothing ran: the caller may retry.
  {
    type: ResponseType.INTEGRATION_FAILURE,
    slug: "dependency-unavailable",
    status: "503",
    title: "Service unavailable",
    detail: "the platform is at its capacity for this operation; retry after the time in Retry-After",
    retryAfterSeconds: 1,
  },
  // The authoriser failed instead of deciding: a store it reads refused for load (it throws
  // then), or it is at its concurrency limit. API Gateway answers a function that throws as an
  // authoriser configuration error (500, AuthorizerConfigurationException) and names other
  // failures AUTHORIZER_FAILURE: both are this 503. Nobody was refused: the caller may sign the
  // request again and retry.
  ...(["AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR"] as const).map((name) => ({
    type: ResponseType[name],
    slug: "dependency-unavailable",
    status: "503",
    title: "Service unavailable",
    detail:
      "the platform could not authenticate this request now; sign it again and retry after the time in Retry-After",
    retryAfterSeconds: 1,
  })),
  { type: ResponseType.DEFAULT_4XX, slug: "bad-request" },
  { type: ResponseType.DEFAULT_5XX, slug: "gateway-error" },
];

/**
 * Routes whose bodies are bulk by design (`bulkBody` in their descriptors): an inline sync batch
 * (up to 1,000 operations), an upload's completion (up to 10,000 part ETags), a dataset or schema
 * of up to 500 fields, code lists of up to 500 entries, up to 1,000 records to validate. API
 * Gateway (10 MB) and Lambda (6 MB) bound them, and their handlers count what they hold; the WAF's
 * body-size rules do not apply to them. Checked at synth against the API's methods.
 */
export const BULK_BODY_ROUTES: readonly string[] = OPERATIONS.filter((operation) => operation.bulkBody).map(routeKey);

/**
 * Largest body WAF lets through on any other route, and how much of a body API Gateway hands
 * WAF to inspect: the largest the other routes' schemas accept (100 inbox receipts of 600
 * characters; 500 field names) fits.
 */
export const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The one REST API in front of every exchange (Art. 3.5, 10.1): regional endpoint, a stage
 * named after the deployment stage, JSON access logs, execution logs, X-Ray tracing,
 * throttling, a WAF web ACL, the request authoriser, and RFC 9457 problem details for errors the
 * gateway raises itself.
 */
export class PlatformApi extends Construct {
  readonly api: RestApi;
  /** Attach to every method that needs a signed request. */
  readonly authorizer: RequestAuthorizer;

  constructor(scope: Construct, id: string, props: PlatformApiProps) {
    super(scope, id);
    const accessLogs = new LogGroup(this, "AccessLogs", {
      retention: props.stage.logRetention,
      removalPolicy: props.stage.removalPolicy,
    });

    this.api = new RestApi(this, "Api", {
      description: "DSCP: Data Sharing and Coordination Platform API",
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: props.stage.removalPolicy,
      deployOptions: {
        stageName: props.stage.name,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel[props.stage.executionLogLevel],
        dataTraceEnabled: false,
        throttlingRateLimit: props.stage.throttle.rateLimit,
        throttlingBurstLimit: props.stage.throttle.burstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            time: "$context.requestTimeEpoch",
            ip: "$context.identity.sourceIp",
            method: "$context.httpMethod",
            path: "$context.path",
            status: "$context.status",
            latencyMs: "$context.responseLatency",
            principal: "$context.authorizer.principalId",
            error: "$context.error.message",
          }),
        ),
      },
    });

    if (props.stage.traceSampleRate !== undefined) {
      // API Gateway decides whether a request is traced and the functions follow its decision.
      new CfnSamplingRule(this, "TraceSampling", {
        samplingRule: {
          ruleName: `dscp-${props.stage.name}-api`,
          priority: 100,
          reservoirSize: 1,
          fixedRate: props.stage.traceSampleRate,
          serviceName: `${this.api.restApiName}/${props.stage.name}`,
          serviceType: "AWS::ApiGateway::Stage",
          host: "*",
          httpMethod: "*",
          urlPath: "*",
          resourceArn: "*",
          version: 1,
        },
      });
    }

    Validations.of(this.api).acknowledge({
      id: "AwsSolutions-APIG2",
      reason:
        "Each handler validates its request with a Zod schema and answers RFC 9457 problem details naming every invalid field; API Gateway validators cannot produce those.",
    });
    Validations.of(this.api).acknowledge({
      id: "AwsSolutions-COG4",
      reason:
        "Callers are agencies' systems, not people: each request carries a token signed with the system's registered key and verified by DSCP's Lambda request authoriser (design.md, Identity and trust).",
    });
    Validations.of(this.api).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
      reason:
        "The account-level role API Gateway uses to write execution logs; AWS's service-role policy grants exactly that.",
    });

    for (const problem of GATEWAY_PROBLEMS) {
      this.api.addGatewayResponse(`Problem${problem.type.responseType}`, {
        type: problem.type,
        ...(problem.status ? { statusCode: problem.status } : {}),
        responseHeaders: {
          "Content-Type": `'${PROBLEM_CONTENT_TYPE}'`,
          [TRANSACTION_ID_HEADER]: "context.requestId",
          ...(problem.retryAfterSeconds ? { "Retry-After": `'${problem.retryAfterSeconds}'` } : {}),
        },
        templates: {
          "application/json": JSON.stringify({
            type: problemTypeUri(problem.slug),
            title: problem.title ?? "$context.error.message",
            ...(problem.status ? { status: Number(problem.status) } : {}),
            ...(problem.detail ? { detail: problem.detail } : {}),
            instance: "$context.path",
            transactionId: "$context.requestId",
          }),
        },
      });
    }

    // Every token is single-use and signs one method and target, so results are never cached.
    // With caching off and no identity source, API Gateway calls the authoriser for every
    // request, even one with no Authorization header: that refusal is logged like any other.
    // The function is seen from the API's scope, so the permission to invoke it, which names
    // the authoriser, is made beside the API and the function's stack never refers to the API.
    this.authorizer = new RequestAuthorizer(this, "RequestAuthorizer", {
      handler: LambdaFunction.fromFunctionAttributes(this, "AuthorizerFunction", {
        functionArn: props.authorizerFunction.functionArn,
        sameEnvironment: true,
      }),
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    // CDK writes an empty IdentitySource for an empty list; leave the property out altogether.
    (this.authorizer.node.defaultChild as CfnAuthorizer).addPropertyDeletionOverride("IdentitySource");

    const webAcl = new CfnWebACL(this, "WebAcl", {
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: "dscp-api", sampledRequestsEnabled: true },
      // WAF sees the first 64 KB of a body (16 KB by default), so the rules below can measure it.
      associationConfig: { requestBody: { API_GATEWAY: { defaultSizeInspectionLimit: "KB_64" } } },
      rules: [
        // The common rule set blocks every body over 8 KB (SizeRestrictions_BODY): inline sync
        // batches and schemas are larger. That rule only counts; the next one limits bodies.
        managedRule("AWSManagedRulesCommonRuleSet", 1, ["SizeRestrictions_BODY"]),
        bodySizeRule(2, this.api),
        managedRule("AWSManagedRulesKnownBadInputsRuleSet", 3),
        managedRule("AWSManagedRulesAmazonIpReputationList", 4),
      ],
    });
    // The stage's ARN refers to the stage, so the association waits for it.
    new CfnWebACLAssociation(this, "WebAclAssociation", {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: webAcl.attrArn,
    });
  }
}

function managedRule(name: string, priority: number, countOnly: readonly string[] = []): CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: "AWS",
        name,
        ...(countOnly.length > 0
          ? { ruleActionOverrides: countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } })) }
          : {}),
      },
    },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
  };
}

/**
 * Blocks a body over {@link BODY_LIMIT_BYTES} (or one WAF cannot see the end of) on every route
 * but {@link BULK_BODY_ROUTES}, which fails synth if one of them is not a method of `api`.
 */
function bodySizeRule(priority: number, api: RestApi): CfnWebACL.RuleProperty {
  api.node.addValidation({
    validate: () => {
      const served = new Set(api.methods.map((method) => `${method.httpMethod} ${method.resource.path}`));
      return BULK_BODY_ROUTES.filter((route) => !served.has(route)).map(
        (route) => `BULK_BODY_ROUTES names ${route}, which the API does not serve`,
      );
    },
  });
  const paths = [...new Set(BULK_BODY_ROUTES.map((route) => route.split(" ")[1] as string))].map((path) =>
    path.replace(/\{[^}]+\}/g, "[^/]+"),
  );
  return {
    name: "BodySizeOutsideBulkRoutes",
    priority,
    action: { block: {} },
    statement: {
      andStatement: {
        statements: [
          {
            sizeConstraintStatement: {
              fieldToMatch: { body: { oversizeHandling: "MATCH" } },
              comparisonOperator: "GT",
              size: BODY_LIMIT_BYTES,
              textTransformations: [{ priority: 0, type: "NONE" }],
            },
          },
          {
            notStatement: {
              statement: {
                // The path WAF sees may start with the stage's name (execute-api domain).
                regexMatchStatement: {
                  regexString: `^(/[^/]+)?(${paths.join("|")})/?$`,
                  fieldToMatch: { uriPath: {} },
                  textTransformations: [{ priority: 0, type: "NONE" }],
                },
              },
            },
          },
        ],
      },
    },
    visibilityConfig: {
      cloudWatchMetricsEnabled: true,
      metricName: "BodySizeOutsideBulkRoutes",
      sampledRequestsEnabled: true,
    },
  };
}
