import { createWriteStream } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AuthorizerPolicy,
  authorizerFailureType,
  dataRecord,
  gatewayResponse,
  isWellFormedPolicy,
  matchRoute,
  newRequestId,
  type ProxyResult,
  policyDecision,
  proxyEvent,
  type RestApiDefinition,
  type RestAuthorizer,
  readProxyResult,
  renderContextTemplate,
} from "./api-gateway.ts";
import { FunctionError, type LambdaHost } from "./lambda-host.ts";

/** Largest request payload API Gateway accepts. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface GatewayServerOptions {
  readonly apis: readonly RestApiDefinition[];
  readonly lambdas: LambdaHost;
  readonly region: string;
  readonly accountId: string;
  /** Appends one access-log line per request here, in each stage's own format. */
  readonly accessLogFile: string;
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
  /** Reports resources a request touched that the runtime does not emulate. */
  readonly warn: (message: string) => void;
}

/** Where the gateway listens and how to reach each API's stage. */
export interface GatewayServer {
  readonly url: string;
  /** `http://127.0.0.1:<port>/_aws/execute-api/<apiId>/<stage>/`, LocalStack's URL shape. */
  stageUrl(apiId: string, stage: string): string;
  stop(): Promise<void>;
}

interface CachedPolicy {
  readonly policy: AuthorizerPolicy;
  readonly expires: number;
}

/**
 * Serves every REST API of the template over HTTP at
 * `/_aws/execute-api/<apiId>/<stage>/<path>`: routes to the method, runs the method's
 * authoriser (with its result cache), invokes the proxy integration and maps errors to the
 * API's gateway responses.
 */
export async function startGatewayServer(options: GatewayServerOptions): Promise<GatewayServer> {
  const apis = new Map(options.apis.map((api) => [api.id, api]));
  const accessLog = createWriteStream(options.accessLogFile, { flags: "a" });
  const authorizerCache = new Map<string, CachedPolicy>();
  const warned = new Set<string>();
  const warnOnce = (message: string) => {
    if (!warned.has(message)) options.warn(message);
    warned.add(message);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.warn(`gateway failure: ${(error as Error).stack ?? String(error)}`);
      if (!response.headersSent) response.writeHead(500, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ message: "Internal server error" }));
    });
  });

  // A request Node's parser refuses (headers over its 16 KiB, a malformed request line) never
  // reaches handle(): answer it as the API answers every refusal, with problem details.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
    const status = tooLarge ? 431 : 400;
    const title = tooLarge ? "Request Header Fields Too Large" : "Bad Request";
    const detail = tooLarge
      ? "the request's headers are larger than the gateway takes"
      : "the request is not valid HTTP";
    const body = JSON.stringify({ type: "urn:dscp:problem:bad-request", title, status, detail });
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const requestId = newRequestId();
    const routed = /^\/_aws\/execute-api\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname);
    const api = routed?.[1] ? apis.get(routed[1]) : undefined;
    const stage = routed?.[2] ?? "";
    if (!routed || !api?.stages.has(stage)) {
      send(
        response,
        {
          statusCode: 403,
          headers: { "Content-Type": "application/json" },
          body: Buffer.from('{"message":"Forbidden"}'),
        },
        requestId,
      );
      return;
    }
    const path = routed[3] ?? "/";
    const httpMethod = (request.method ?? "GET").toUpperCase();
    const context: Record<string, unknown> = {
      requestId,
      extendedRequestId: requestId,
      apiId: api.id,
      stage,
      path: url.pathname,
      httpMethod,
      resourcePath: path,
      requestTimeEpoch: started,
      identity: {
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: request.headers["user-agent"] ?? "",
      },
      protocol: `HTTP/${request.httpVersion}`,
    };
    const finish = (result: ProxyResult) => {
      context.status = result.statusCode;
      context.responseLatency = Date.now() - started;
      context.responseLength = result.body.length;
      send(response, result, requestId);
      const format = api.stages.get(stage)?.accessLogFormat;
      if (format) accessLog.write(`${renderContextTemplate(format, context)}\n`);
    };
    const fail = (responseType: string, error: Record<string, unknown> = {}, status?: number) => {
      const result = gatewayResponse(
        api,
        responseType,
        { ...context, error },
        status ? { status, message: "Internal server error" } : undefined,
      );
      context.error = {
        ...error,
        responseType,
        message: error.message ?? JSON.parse(result.body.toString() || "{}")?.message,
      };
      finish(result);
    };
    // A failing or malformed Lambda proxy integration: API Gateway answers 502.
    const badGateway = () => fail("DEFAULT_5XX", { message: "Internal server error" }, 502);

    const body = await readBody(request);
    if (!body) return fail("REQUEST_TOO_LARGE");

    const match = matchRoute(api.methods, httpMethod, path);
    if (!match) return fail("MISSING_AUTHENTICATION_TOKEN");
    context.resourcePath = match.method.resourcePath;
    context.resourceId = match.method.resourceId;
    const requestEvent = (authorizer?: Record<string, unknown>) =>
      proxyEvent({
        request,
        body,
        api,
        stage,
        path,
        calledPath: url.pathname,
        query: url.searchParams,
        match,
        requestId,
        accountId: options.accountId,
        ...(authorizer ? { authorizer } : {}),
      });

    let authorizerContext: Record<string, unknown> | undefined;
    if (match.method.authorizationType === "CUSTOM" && match.method.authorizerId) {
      const authorizer = api.authorizers.get(match.method.authorizerId);
      if (!authorizer) return fail("AUTHORIZER_CONFIGURATION_ERROR");
      const methodArn = `arn:aws:execute-api:${options.region}:${options.accountId}:${api.id}/${stage}/${httpMethod}${path}`;
      const identity = identityOf(authorizer, request, url.searchParams);
      if (!identity) return fail("UNAUTHORIZED");
      const cacheKey = `${authorizer.id}\u0000${identity.join("\u0000")}`;
      let policy = authorizerCache.get(cacheKey);
      if (!policy || policy.expires <= Date.now()) {
        const event =
          authorizer.type === "TOKEN"
            ? { type: "TOKEN", authorizationToken: identity[0], methodArn }
            : { ...requestEvent(), body: undefined, isBase64Encoded: undefined, type: "REQUEST", methodArn };
        let answer: unknown;
        try {
          answer = await options.lambdas.invoke(authorizer.functionArn, event);
        } catch (error) {
          if (!(error instanceof FunctionError)) throw error;
          return fail(authorizerFailureType(error));
        }
        if (!isWellFormedPolicy(answer)) return fail("AUTHORIZER_CONFIGURATION_ERROR");
        policy = { policy: answer, expires: Date.now() + authorizer.ttlSeconds * 1000 };
        if (authorizer.ttlSeconds > 0) authorizerCache.set(cacheKey, policy);
      }
      context.authorizer = { principalId: policy.policy.principalId, ...policy.policy.context };
      const decision = policyDecision(policy.policy, methodArn);
      if (decision === "explicit-deny") {
        return fail("ACCESS_DENIED", {
          message: "User is not authorized to access this resource with an explicit deny",
        });
      }
      if (decision === "implicit-deny") return fail("ACCESS_DENIED");
      authorizerContext = dataRecord<unknown>([
        ...Object.entries(flatContext(policy.policy.context)),
        ["principalId", policy.policy.principalId ?? null],
        ["integrationLatency", 0],
      ]);
    } else if (match.method.authorizationType !== "NONE" && match.method.authorizationType !== "CUSTOM") {
      warnOnce(
        `${match.method.httpMethod} ${match.method.resourcePath}: ${match.method.authorizationType} authorization is not enforced locally`,
      );
    }

    const integration = match.method.integration;
    if (integration.type === "MOCK") {
      return finish({
        statusCode: integration.statusCode,
        headers: integration.headers,
        body: Buffer.from(integration.body),
      });
    }
    if (integration.type === "UNSUPPORTED") {
      warnOnce(`${match.method.httpMethod} ${match.method.resourcePath}: ${integration.description} is not emulated`);
      return fail("API_CONFIGURATION_ERROR");
    }
    const event = requestEvent(authorizerContext);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), integration.timeoutMs);
    });
    try {
      const outcome = await Promise.race([options.lambdas.invoke(integration.functionArn, event), timeout]);
      if (outcome === "timeout") return fail("INTEGRATION_TIMEOUT");
      const result = readProxyResult(outcome);
      if (!result) return badGateway();
      return finish(result);
    } catch (error) {
      if (!(error instanceof FunctionError)) throw error;
      return badGateway();
    } finally {
      clearTimeout(timer);
    }
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stageUrl: (apiId, stage) => `${url}/_aws/execute-api/${apiId}/${stage}/`,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await new Promise((resolve) => accessLog.end(resolve));
    },
  };
}

function identityOf(
  authorizer: RestAuthorizer,
  request: IncomingMessage,
  query: URLSearchParams,
): string[] | undefined {
  const values: string[] = [];
  for (const source of authorizer.identitySources) {
    const header = /^method\.request\.header\.(.+)$/.exec(source);
    const parameter = /^method\.request\.querystring\.(.+)$/.exec(source);
    const value = header?.[1]
      ? request.headers[header[1].toLowerCase()]
      : parameter?.[1]
        ? query.get(parameter[1])
        : undefined;
    const text = Array.isArray(value) ? value.join(",") : value;
    if (!text) return undefined;
    values.push(text);
  }
  if (
    authorizer.type === "TOKEN" &&
    authorizer.validationExpression &&
    !authorizer.validationExpression.test(values[0] ?? "")
  ) {
    return undefined;
  }
  return values;
}

/** API Gateway passes only string, number and boolean context values, as strings. */
function flatContext(context: Record<string, unknown> | undefined): Record<string, string> {
  return dataRecord(
    Object.entries(context ?? {})
      .filter(([, value]) => ["string", "number", "boolean"].includes(typeof value))
      .map(([key, value]) => [key, String(value)] as const),
  );
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, result: ProxyResult, requestId: string): void {
  response.writeHead(result.statusCode, {
    ...result.headers,
    "x-amzn-RequestId": requestId,
    "Content-Length": String(result.body.length),
  });
  response.end(result.body);
}
