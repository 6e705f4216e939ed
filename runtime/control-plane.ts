import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AwsCallCounter } from "./aws-calls.ts";
import { type KmsEmulator, KmsError } from "./kms.ts";
import { FunctionError, type LambdaHost } from "./lambda-host.ts";
import { type StepFunctionsEmulator, StepFunctionsError } from "./step-functions.ts";

export interface ControlPlaneOptions {
  readonly lambdas: () => LambdaHost;
  readonly stepFunctions: () => StepFunctionsEmulator;
  readonly runRule: (name: string) => Promise<unknown>;
  readonly kms: () => KmsEmulator;
  /** Counts every request served (KMS, Step Functions, Lambda), by caller and operation. */
  readonly calls?: AwsCallCounter;
}

/**
 * The AWS APIs the runtime serves itself, so functions and tools reach them through their
 * usual SDK clients: Step Functions (JSON protocol: StartExecution, StartSyncExecution,
 * DescribeExecution, StopExecution, ListExecutions), Lambda Invoke and KMS for asymmetric
 * signing keys (Sign, Verify, GetPublicKey, DescribeKey). Also
 * `POST /_dscp/rules/<rule>/run` to fire a scheduled rule on demand.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<{ url: string; stop(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    options.calls?.observe(request, response);
    handle(request, response, options).catch((error: unknown) => {
      const status =
        error instanceof StepFunctionsError || error instanceof KmsError
          ? 400
          : error instanceof FunctionError && error.errorType === "ResourceNotFoundException"
            ? 404
            : 500;
      const code =
        error instanceof StepFunctionsError || error instanceof KmsError
          ? error.code
          : error instanceof FunctionError
            ? error.errorType
            : "ServiceException";
      reply(response, status, { __type: code, message: (error as Error).message }, { "x-amzn-ErrorType": code });
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: ControlPlaneOptions): Promise<void> {
  const body = await readAll(request);
  const url = new URL(request.url ?? "/", "http://127.0.0.1");
  const target = String(request.headers["x-amz-target"] ?? "");

  if (target.startsWith("TrentService.")) {
    const input = JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
    return reply(response, 200, options.kms().handle(target.slice("TrentService.".length), input), {
      "Content-Type": "application/x-amz-json-1.1",
    });
  }

  if (target.startsWith("AWSStepFunctions.")) {
    const input = JSON.parse(body.toString("utf8") || "{}") as Record<string, string>;
    const sfn = options.stepFunctions();
    switch (target.slice("AWSStepFunctions.".length)) {
      case "StartExecution": {
        const record = await sfn.startExecution(String(input.stateMachineArn), input.input, input.name);
        return reply(response, 200, {
          executionArn: record.executionArn,
          startDate: record.startDate.getTime() / 1000,
        });
      }
      case "StartSyncExecution": {
        const record = await sfn.startExecution(String(input.stateMachineArn), input.input, input.name);
        await record.done;
        return reply(response, 200, describe(record));
      }
      case "DescribeExecution":
        return reply(response, 200, describe(sfn.describeExecution(String(input.executionArn))));
      case "StopExecution":
        sfn.stopExecution(String(input.executionArn));
        return reply(response, 200, { stopDate: Date.now() / 1000 });
      case "ListExecutions":
        return reply(response, 200, {
          executions: sfn.listExecutions(String(input.stateMachineArn)).map((record) => ({
            executionArn: record.executionArn,
            stateMachineArn: record.stateMachineArn,
            name: record.name,
            status: record.status,
            startDate: record.startDate.getTime() / 1000,
          })),
        });
      default:
        throw new StepFunctionsError("UnknownOperationException", `${target} is not emulated by the local runtime`);
    }
  }

  const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
  if (invoke?.[1] && request.method === "POST") {
    const functionName = decodeURIComponent(invoke[1]);
    const payload = body.length > 0 ? JSON.parse(body.toString("utf8")) : {};
    const lambdas = options.lambdas();
    if (!lambdas.find(functionName)) {
      throw new FunctionError(functionName, "ResourceNotFoundException", `Function not found: ${functionName}`);
    }
    if (request.headers["x-amz-invocation-type"] === "Event") {
      lambdas.invoke(functionName, payload).catch(() => {});
      return reply(response, 202, undefined);
    }
    try {
      const result = await lambdas.invoke(functionName, payload);
      return reply(response, 200, result, { "X-Amz-Executed-Version": "$LATEST" });
    } catch (error) {
      if (!(error instanceof FunctionError) || error.errorType === "ResourceNotFoundException") throw error;
      return reply(
        response,
        200,
        { errorType: error.errorType, errorMessage: error.message, trace: error.trace },
        { "X-Amz-Function-Error": "Unhandled" },
      );
    }
  }

  const rule = /^\/_dscp\/rules\/([^/]+)\/run$/.exec(url.pathname);
  if (rule?.[1] && request.method === "POST") {
    return reply(response, 200, { results: await options.runRule(decodeURIComponent(rule[1])) });
  }
  reply(response, 404, {
    __type: "UnknownOperationException",
    message: `${request.method} ${url.pathname} is not served locally`,
  });
}

function describe(record: ReturnType<StepFunctionsEmulator["describeExecution"]>) {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: record.startDate.getTime() / 1000,
    ...(record.stopDate ? { stopDate: record.stopDate.getTime() / 1000 } : {}),
    input: record.input,
    ...(record.output !== undefined ? { output: record.output } : {}),
    ...(record.error !== undefined ? { error: record.error, cause: record.cause } : {}),
  };
}

/** `body` undefined sends nothing; anything else (null included) is sent as JSON. */
function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  response.writeHead(status, {
    "Content-Type": "application/x-amz-json-1.0",
    ...headers,
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}

function readAll(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}
