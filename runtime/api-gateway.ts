import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TemplateResource } from "./assembly.ts";
import type { IntrinsicResolver, PhysicalResource } from "./intrinsics.ts";
import { FunctionError } from "./lambda-host.ts";

/** One REST API method as the template declares it, with its resolved path. */
export interface RestMethod {
  readonly httpMethod: string;
  /** Resource path with its parameters, e.g. `/v1/exchange/{datasetId}/records/{key}`. */
  readonly resourcePath: string;
  readonly resourceId: string;
  readonly authorizationType: string;
  readonly authorizerId?: string;
  readonly integration: Integration;
}

export type Integration =
  | { readonly type: "AWS_PROXY"; readonly functionArn: string; readonly timeoutMs: number }
  | {
      readonly type: "MOCK";
      readonly statusCode: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: string;
    }
  | { readonly type: "UNSUPPORTED"; readonly description: string };

export interface RestAuthorizer {
  readonly id: string;
  readonly name: string;
  readonly type: "TOKEN" | "REQUEST";
  readonly functionArn: string;
  /** `method.request.header.X`, `method.request.querystring.Y`... */
  readonly identitySources: readonly string[];
  readonly validationExpression?: RegExp;
  readonly ttlSeconds: number;
}

export interface GatewayResponseDefinition {
  readonly statusCode?: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly template?: string;
}

/** A REST API of the template, ready to serve. */
export interface RestApiDefinition {
  readonly logicalId: string;
  readonly id: string;
  readonly name: string;
  readonly stages: ReadonlyMap<string, { accessLogFormat?: string }>;
  readonly methods: readonly RestMethod[];
  readonly authorizers: ReadonlyMap<string, RestAuthorizer>;
  readonly gatewayResponses: ReadonlyMap<string, GatewayResponseDefinition>;
  readonly binaryMediaTypes: readonly string[];
}

/**
 * Reads every REST API of a stack from its template: resources into paths, methods with their
 * integrations, authorisers, stages and gateway responses.
 */
export function readRestApis(
  resources: Readonly<Record<string, TemplateResource>>,
  identities: ReadonlyMap<string, PhysicalResource>,
  resolver: IntrinsicResolver,
): RestApiDefinition[] {
  const entries = Object.entries(resources);
  const ofType = (type: string) => entries.filter(([, resource]) => resource.Type === type);
  const props = (resource: TemplateResource) =>
    (resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;

  const pathOfResource = new Map<string, string>();
  for (const identity of identities.values()) {
    if (identity.type === "AWS::ApiGateway::RestApi")
      pathOfResource.set(String(identity.attributes.RootResourceId), "/");
  }
  const apiResources = ofType("AWS::ApiGateway::Resource").map(([logicalId, resource]) => ({
    id: identities.get(logicalId)?.ref ?? logicalId,
    props: props(resource),
  }));
  for (let pending = apiResources; pending.length > 0; ) {
    const next = pending.filter((item) => {
      const parent = pathOfResource.get(String(item.props.ParentId));
      if (parent === undefined) return true;
      pathOfResource.set(item.id, `${parent === "/" ? "" : parent}/${String(item.props.PathPart)}`);
      return false;
    });
    if (next.length === pending.length) break;
    pending = next;
  }

  return ofType("AWS::ApiGateway::RestApi").map(([logicalId, resource]) => {
    const api = props(resource);
    const id = identities.get(logicalId)?.ref ?? logicalId;
    const belongs = (candidate: Record<string, unknown>) => candidate.RestApiId === id;

    const stages = new Map<string, { accessLogFormat?: string }>();
    for (const [, stage] of ofType("AWS::ApiGateway::Stage")) {
      const stageProps = props(stage);
      if (!belongs(stageProps)) continue;
      const accessLog = stageProps.AccessLogSetting as { Format?: string } | undefined;
      stages.set(String(stageProps.StageName), accessLog?.Format ? { accessLogFormat: accessLog.Format } : {});
    }
    for (const [, deployment] of ofType("AWS::ApiGateway::Deployment")) {
      const deploymentProps = props(deployment);
      if (belongs(deploymentProps) && typeof deploymentProps.StageName === "string")
        stages.set(deploymentProps.StageName, {});
    }

    const authorizers = new Map<string, RestAuthorizer>();
    for (const [authorizerLogicalId, authorizer] of ofType("AWS::ApiGateway::Authorizer")) {
      const authorizerProps = props(authorizer);
      if (!belongs(authorizerProps)) continue;
      const authorizerId = identities.get(authorizerLogicalId)?.ref ?? authorizerLogicalId;
      const type = String(authorizerProps.Type);
      if (type !== "TOKEN" && type !== "REQUEST") continue;
      authorizers.set(authorizerId, {
        id: authorizerId,
        name: String(authorizerProps.Name ?? authorizerLogicalId),
        type,
        functionArn: functionArnOfUri(String(authorizerProps.AuthorizerUri)),
        identitySources: String(authorizerProps.IdentitySource ?? "")
          .split(",")
          .map((source) => source.trim())
          .filter(Boolean),
        ...(authorizerProps.IdentityValidationExpression
          ? { validationExpression: new RegExp(String(authorizerProps.IdentityValidationExpression)) }
          : {}),
        ttlSeconds: Number(authorizerProps.AuthorizerResultTtlInSeconds ?? 300),
      });
    }

    const methods: RestMethod[] = [];
    for (const [, method] of ofType("AWS::ApiGateway::Method")) {
      const methodProps = props(method);
      if (!belongs(methodProps)) continue;
      const resourceId = String(methodProps.ResourceId);
      const resourcePath = pathOfResource.get(resourceId);
      if (resourcePath === undefined) continue;
      methods.push({
        httpMethod: String(methodProps.HttpMethod).toUpperCase(),
        resourcePath,
        resourceId,
        authorizationType: String(methodProps.AuthorizationType ?? "NONE"),
        ...(methodProps.AuthorizerId ? { authorizerId: String(methodProps.AuthorizerId) } : {}),
        integration: readIntegration(methodProps.Integration as Record<string, unknown> | undefined),
      });
    }

    const gatewayResponses = new Map<string, GatewayResponseDefinition>();
    for (const [, response] of ofType("AWS::ApiGateway::GatewayResponse")) {
      const responseProps = props(response);
      if (!belongs(responseProps)) continue;
      const templates = (responseProps.ResponseTemplates ?? {}) as Record<string, string>;
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries((responseProps.ResponseParameters ?? {}) as Record<string, string>)) {
        headers[key.replace(/^gatewayresponse\.header\./, "")] = value;
      }
      gatewayResponses.set(String(responseProps.ResponseType), {
        ...(responseProps.StatusCode ? { statusCode: Number(responseProps.StatusCode) } : {}),
        headers,
        ...(templates["application/json"] !== undefined ? { template: templates["application/json"] } : {}),
      });
    }

    return {
      logicalId,
      id,
      name: String(api.Name ?? logicalId),
      stages,
      methods,
      authorizers,
      gatewayResponses,
      binaryMediaTypes: (api.BinaryMediaTypes as string[] | undefined) ?? [],
    };
  });
}

function readIntegration(integration: Record<string, unknown> | undefined): Integration {
  const type = String(integration?.Type ?? "NONE");
  if (type === "AWS_PROXY" && typeof integration?.Uri === "string" && integration.Uri.includes(":lambda:path/")) {
    return {
      type: "AWS_PROXY",
      functionArn: functionArnOfUri(integration.Uri),
      timeoutMs: Number(integration.TimeoutInMillis ?? 29_000),
    };
  }
  if (type === "MOCK") {
    const [response] = (integration?.IntegrationResponses as Record<string, unknown>[] | undefined) ?? [];
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries((response?.ResponseParameters ?? {}) as Record<string, string>)) {
      headers[key.replace(/^method\.response\.header\./, "")] = unquote(value);
    }
    const templates = (response?.ResponseTemplates ?? {}) as Record<string, string>;
    return {
      type: "MOCK",
      statusCode: Number(response?.StatusCode ?? 200),
      headers,
      body: templates["application/json"] ?? "",
    };
  }
  return { type: "UNSUPPORTED", description: `${type} integration` };
}

/** `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations` → function ARN. */
export function functionArnOfUri(uri: string): string {
  const match = /functions\/(.+?)\/invocations/.exec(uri);
  return match?.[1] ?? uri;
}

function unquote(value: string): string {
  return value.startsWith("'") && value.endsWith("'") ? value.slice(1, -1) : value;
}

/** A method matched to a request path, with its path parameters. */
export interface RouteMatch {
  readonly method: RestMethod;
  readonly pathParameters: Record<string, string>;
}

/**
 * Finds the method serving `path`, as API Gateway does: literal segments win over `{param}`,
 * which wins over a greedy `{proxy+}`; an exact verb wins over ANY.
 */
export function matchRoute(methods: readonly RestMethod[], httpMethod: string, path: string): RouteMatch | undefined {
  const segments = path.split("/").filter(Boolean).map(decodeURIComponentSafe);
  let best: { match: RouteMatch; score: number[] } | undefined;
  for (const method of methods) {
    if (method.httpMethod !== httpMethod && method.httpMethod !== "ANY") continue;
    const parameters = matchPath(method.resourcePath, segments);
    if (!parameters) continue;
    const score = [...scorePath(method.resourcePath), method.httpMethod === "ANY" ? 0 : 1];
    if (!best || compareScores(score, best.score) > 0) best = { match: { method, pathParameters: parameters }, score };
  }
  return best?.match;
}

function matchPath(resourcePath: string, segments: readonly string[]): Record<string, string> | undefined {
  const template = resourcePath.split("/").filter(Boolean);
  const parameters = dataRecord<string>([]);
  for (let index = 0; index < template.length; index++) {
    const part = template[index] as string;
    const greedy = /^\{(.+)\+\}$/.exec(part);
    if (greedy?.[1]) {
      if (index >= segments.length) return undefined;
      parameters[greedy[1]] = segments.slice(index).join("/");
      return parameters;
    }
    const segment = segments[index];
    if (segment === undefined) return undefined;
    const parameter = /^\{(.+)\}$/.exec(part);
    if (parameter?.[1]) parameters[parameter[1]] = segment;
    else if (part !== segment) return undefined;
  }
  return template.length === segments.length ? parameters : undefined;
}

function scorePath(resourcePath: string): number[] {
  return resourcePath
    .split("/")
    .filter(Boolean)
    .map((part) => (part.endsWith("+}") ? 1 : part.startsWith("{") ? 2 : 3));
}

function compareScores(left: number[], right: number[]): number {
  for (let index = 0; index < Math.max(left.length, right.length); index++) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function decodeURIComponentSafe(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** An IAM-style policy an authoriser returns. */
export interface AuthorizerPolicy {
  readonly principalId?: string;
  readonly policyDocument?: {
    readonly Statement?: StatementLike | readonly StatementLike[];
  };
  readonly context?: Record<string, unknown>;
}
interface StatementLike {
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

/** What a policy says about invoking one method: an explicit Deny wins, no Allow denies. */
export type PolicyDecision = "allow" | "explicit-deny" | "implicit-deny";

export function policyDecision(policy: AuthorizerPolicy, methodArn: string): PolicyDecision {
  let decision: PolicyDecision = "implicit-deny";
  for (const statement of [policy.policyDocument?.Statement ?? []].flat()) {
    const actions = [statement.Action ?? []].flat();
    if (!actions.some((action) => wildcard(action.toLowerCase(), "execute-api:invoke"))) continue;
    const resources = [statement.Resource ?? []].flat();
    if (!resources.some((resource) => wildcard(resource, methodArn))) continue;
    if (statement.Effect === "Deny") return "explicit-deny";
    if (statement.Effect === "Allow") decision = "allow";
  }
  return decision;
}

/** API Gateway refuses authoriser output without a principal and a policy (500). */
export function isWellFormedPolicy(value: unknown): value is AuthorizerPolicy {
  if (value === null || typeof value !== "object") return false;
  const policy = value as Record<string, unknown>;
  return (
    policy.principalId !== undefined &&
    policy.policyDocument !== null &&
    typeof policy.policyDocument === "object" &&
    (policy.context === undefined ||
      (typeof policy.context === "object" &&
        Object.values(policy.context as object).every((item) => ["string", "number", "boolean"].includes(typeof item))))
  );
}

function wildcard(pattern: string, value: string): boolean {
  const expression = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${expression}$`).test(value);
}

/** Builds the REST API proxy event (payload format 1.0) Lambda receives for a request. */
export function proxyEvent(input: {
  request: IncomingMessage;
  body: Buffer;
  api: RestApiDefinition;
  stage: string;
  path: string;
  /** The path as called: on AWS `/<stage>/…`, here `/_aws/execute-api/<api>/<stage>/…`. */
  calledPath: string;
  query: URLSearchParams;
  match: RouteMatch;
  requestId: string;
  accountId: string;
  authorizer?: Record<string, unknown>;
}): Record<string, unknown> {
  const { request, body, api, stage, path, query, match } = input;
  // Names come from the caller: collected in Maps, handed over as null-prototype records, so
  // `__proto__`, `constructor` or `toString` are names like any other.
  const headers = new Map<string, string>();
  const multiValueHeaders = new Map<string, string[]>();
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    const name = request.rawHeaders[index] as string;
    const value = request.rawHeaders[index + 1] as string;
    headers.set(name, value);
    multiValueHeaders.set(name, [...(multiValueHeaders.get(name) ?? []), value]);
  }
  // API Gateway tells integrations how the client connected; here it is plain HTTP.
  if (![...headers.keys()].some((name) => name.toLowerCase() === "x-forwarded-proto")) {
    headers.set("X-Forwarded-Proto", "http");
    multiValueHeaders.set("X-Forwarded-Proto", ["http"]);
  }
  const queryStringParameters = new Map<string, string>();
  const multiValueQueryStringParameters = new Map<string, string[]>();
  for (const [key, value] of query) {
    queryStringParameters.set(key, value);
    multiValueQueryStringParameters.set(key, [...(multiValueQueryStringParameters.get(key) ?? []), value]);
  }
  const contentType = String(request.headers["content-type"] ?? "");
  const binary = api.binaryMediaTypes.some((type) => wildcard(type, contentType.split(";")[0]?.trim() ?? ""));
  const now = new Date();
  const hasQuery = queryStringParameters.size > 0;
  const pathParameters = Object.entries(match.pathParameters);
  return {
    resource: match.method.resourcePath,
    path,
    httpMethod: request.method,
    headers: dataRecord(headers),
    multiValueHeaders: dataRecord(multiValueHeaders),
    queryStringParameters: hasQuery ? dataRecord(queryStringParameters) : null,
    multiValueQueryStringParameters: hasQuery ? dataRecord(multiValueQueryStringParameters) : null,
    pathParameters: pathParameters.length > 0 ? dataRecord(pathParameters) : null,
    stageVariables: null,
    requestContext: {
      accountId: input.accountId,
      apiId: api.id,
      resourceId: match.method.resourceId,
      resourcePath: match.method.resourcePath,
      httpMethod: request.method,
      path: input.calledPath,
      stage,
      requestId: input.requestId,
      extendedRequestId: input.requestId,
      requestTime: apiGatewayTime(now),
      requestTimeEpoch: now.getTime(),
      protocol: `HTTP/${request.httpVersion}`,
      domainName: String(request.headers.host ?? "127.0.0.1"),
      domainPrefix: api.id,
      identity: {
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: request.headers["user-agent"] ?? null,
        accountId: null,
        caller: null,
        user: null,
        userArn: null,
        accessKey: null,
        apiKey: null,
        apiKeyId: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        principalOrgId: null,
        clientCert: null,
      },
      ...(input.authorizer ? { authorizer: input.authorizer } : {}),
    },
    body: body.length === 0 ? null : binary ? body.toString("base64") : body.toString("utf8"),
    isBase64Encoded: body.length > 0 && binary,
  };
}

/**
 * A record whose keys are data: no prototype, so a caller's `__proto__`, `constructor` or
 * `toString` is an own property like any other name, never an inherited member.
 */
export function dataRecord<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const record = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) record[key] = value;
  return record;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `27/Nov/2026:08:43:13 +0000`, the way API Gateway writes `requestTime`. */
export function apiGatewayTime(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** Lambda's answer to a proxy integration, checked as API Gateway checks it. */
export interface ProxyResult {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/** Returns undefined when the function's result is malformed (API Gateway then answers 502). */
export function readProxyResult(value: unknown): ProxyResult | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const result = value as Record<string, unknown>;
  const statusCode = Number(result.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return undefined;
  if (result.body !== undefined && result.body !== null && typeof result.body !== "string") return undefined;
  const headers = dataRecord<string | string[]>([]);
  for (const [key, item] of Object.entries((result.headers ?? {}) as Record<string, unknown>))
    headers[key] = String(item);
  for (const [key, items] of Object.entries((result.multiValueHeaders ?? {}) as Record<string, unknown[]>)) {
    headers[key] = items.map(String);
  }
  const body = typeof result.body === "string" ? result.body : "";
  return {
    statusCode,
    headers,
    body: result.isBase64Encoded === true ? Buffer.from(body, "base64") : Buffer.from(body, "utf8"),
  };
}

/** Default gateway responses: status and body API Gateway answers when nothing overrides them. */
const DEFAULT_GATEWAY_RESPONSES: Record<string, { status: number; message: string }> = {
  UNAUTHORIZED: { status: 401, message: "Unauthorized" },
  ACCESS_DENIED: { status: 403, message: "User is not authorized to access this resource" },
  MISSING_AUTHENTICATION_TOKEN: { status: 403, message: "Missing Authentication Token" },
  AUTHORIZER_FAILURE: { status: 500, message: "Authorizer error" },
  AUTHORIZER_CONFIGURATION_ERROR: { status: 500, message: "Authorizer configuration error" },
  INTEGRATION_FAILURE: { status: 504, message: "Internal server error" },
  INTEGRATION_TIMEOUT: { status: 504, message: "Endpoint request timed out" },
  REQUEST_TOO_LARGE: { status: 413, message: "Request Too Long" },
  THROTTLED: { status: 429, message: "Too Many Requests" },
  API_CONFIGURATION_ERROR: { status: 500, message: "Internal server error" },
};

/** Values `$context.*` placeholders of gateway responses and access logs resolve to. */
export type TemplateContext = Record<string, unknown>;

/** Fills `$context.a.b` placeholders, as the gateway does for gateway responses and access logs. */
export function renderContextTemplate(template: string, context: TemplateContext): string {
  return template.replace(/\$context\.([A-Za-z0-9_.]+)/g, (_match, path: string) => {
    const value = path
      .split(".")
      .reduce<unknown>((current, key) => (current as Record<string, unknown> | undefined)?.[key], context);
    return value === undefined || value === null ? "" : String(value);
  });
}

/** Builds the response API Gateway gives for one of its own errors, applying the API's overrides. */
export function gatewayResponse(
  api: RestApiDefinition,
  responseType: string,
  context: TemplateContext & { error?: Record<string, unknown> },
  fallback?: { status: number; message: string },
): ProxyResult & { readonly message: string } {
  const builtin = DEFAULT_GATEWAY_RESPONSES[responseType] ??
    fallback ?? { status: 500, message: "Internal server error" };
  const family = builtin.status >= 500 ? "DEFAULT_5XX" : "DEFAULT_4XX";
  const custom = api.gatewayResponses.get(responseType) ?? api.gatewayResponses.get(family);
  const message =
    typeof context.error?.message === "string" && context.error.message ? context.error.message : builtin.message;
  const fullContext = {
    ...context,
    error: { ...context.error, message, messageString: JSON.stringify(message), responseType },
  };
  const headers: Record<string, string> = { "Content-Type": "application/json", "x-amzn-ErrorType": responseType };
  for (const [name, source] of Object.entries(custom?.headers ?? {})) {
    if (source.startsWith("'")) headers[name] = unquote(source);
    else if (source.startsWith("context.")) headers[name] = renderContextTemplate(`$${source}`, fullContext);
  }
  const body =
    custom?.template !== undefined
      ? renderContextTemplate(custom.template, fullContext)
      : JSON.stringify(responseType === "ACCESS_DENIED" ? { Message: message } : { message });
  return { statusCode: custom?.statusCode ?? builtin.status, headers, body: Buffer.from(body), message };
}

/** Classifies an authoriser's failure the way API Gateway does. */
export function authorizerFailureType(error: unknown): "UNAUTHORIZED" | "AUTHORIZER_FAILURE" {
  return error instanceof FunctionError && error.message === "Unauthorized" ? "UNAUTHORIZED" : "AUTHORIZER_FAILURE";
}

/** A fresh API Gateway request id. */
export function newRequestId(): string {
  return randomUUID();
}
