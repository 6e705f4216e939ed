import { createPublicKey, verify } from "node:crypto";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalRuntime, startLocalRuntime } from "../../runtime/local-runtime.ts";
import { FIXTURE_SECOND_STACK, FIXTURE_STACK, synthesizeFixture } from "../fixtures/runtime-app/app.ts";
import { eventually, temporaryDir } from "./helpers.ts";

const assemblyDir = temporaryDir("fixture-assembly");
const dataDir = temporaryDir("fixture-data");
let runtime: LocalRuntime;

const apiUrl = () => {
  const url = Object.entries(runtime.apiUrls).find(([key]) => key.startsWith(`${FIXTURE_STACK}/Api`))?.[1];
  if (!url) throw new Error("fixture API not served");
  return url;
};
const ref = (path: string) => runtime.resource(FIXTURE_STACK, path).ref;
const tableName = () => ref("Items/Resource");
const queueUrl = (name: string) => ref(`${name}/Resource`);

beforeAll(async () => {
  synthesizeFixture(assemblyDir);
  runtime = await startLocalRuntime({ assemblyDir, dataDir, fresh: true });
});

afterAll(async () => {
  await runtime?.stop();
});

describe("API Gateway with a token authoriser", () => {
  it("passes an allowed request to the function as a REST proxy event with the authoriser's context", async () => {
    const response = await fetch(`${apiUrl()}hello/world?x=1&x=2`, {
      headers: { Authorization: "Bearer allow-alice" },
    });
    const body = await response.json();

    expect(response.status).toBe(200);
    expect(response.headers.get("x-echo")).toBe("yes");
    expect(body).toMatchObject({
      resource: "/hello/{name}",
      path: "/hello/world",
      method: "GET",
      pathParameters: { name: "world" },
      query: { x: ["1", "2"] },
      authorizer: { principalId: "alice", tier: "gold", level: "3" },
      stage: "test",
    });
  });

  it("answers 401 without calling the function when the token is missing", async () => {
    const response = await fetch(`${apiUrl()}hello/world`);

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: "Unauthorized" });
  });

  it("answers 401 when the authoriser refuses the token", async () => {
    const response = await fetch(`${apiUrl()}hello/world`, { headers: { Authorization: "Bearer nonsense" } });

    expect(response.status).toBe(401);
  });

  it("answers 403 when the authoriser's policy denies the method", async () => {
    const response = await fetch(`${apiUrl()}hello/world`, { headers: { Authorization: "Bearer deny" } });

    expect(response.status).toBe(403);
  });

  it("runs a REQUEST authoriser with the request's headers and path, for each request when its cache is off", async () => {
    const own = await fetch(`${apiUrl()}records/alice`, { headers: { "X-Caller": "alice" } });
    const other = await fetch(`${apiUrl()}records/bob`, { headers: { "X-Caller": "alice" } });
    const anonymous = await fetch(`${apiUrl()}records/alice`);

    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ authorizer: { principalId: "alice", checkedPath: "/records/alice" } });
    expect(other.status).toBe(403);
    expect(anonymous.status).toBe(401);
  });

  it("serves public methods and greedy paths, and answers unknown routes as API Gateway does", async () => {
    const posted = await fetch(`${apiUrl()}public`, { method: "POST", body: '{"a":1}' });
    const greedy = await fetch(`${apiUrl()}files/a/b/c.txt`, { method: "DELETE" });
    const unknown = await fetch(`${apiUrl()}nowhere`);

    expect(await posted.json()).toMatchObject({ body: '{"a":1}', method: "POST" });
    expect(await greedy.json()).toMatchObject({ pathParameters: { proxy: "a/b/c.txt" }, method: "DELETE" });
    expect(unknown.status).toBe(403);
    expect(await unknown.json()).toEqual({ message: "Missing Authentication Token" });
  });

  it("answers 502 when the function's result is not a proxy response", async () => {
    const response = await fetch(`${apiUrl()}crash`, { method: "POST" });

    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: "Internal server error" });
  });

  it("runs each function with its own environment from the template", async () => {
    const response = await fetch(`${apiUrl()}public`, { method: "POST" });
    const body = (await response.json()) as { functionName: string };

    expect(body.functionName).toMatch(/^RuntimeFixture-Echo/);
  });
});

describe("SQS event source with partial batch failures", () => {
  it("stores good messages and moves the reported failure to the dead-letter queue after maxReceiveCount", async () => {
    const work = queueUrl("Work");
    // Warm the consumer first, so a slow cold start cannot outlast the visibility timeout.
    await runtime.lambdas.invoke(ref("Consumer/Resource"), { Records: [] });
    await runtime.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: work,
        Entries: [
          { Id: "1", MessageBody: "first" },
          { Id: "2", MessageBody: "poison" },
          { Id: "3", MessageBody: "third" },
        ],
      }),
    );

    for (const body of ["first", "third"]) {
      const item = await eventually(async () => {
        const { Item } = await runtime.clients.dynamodb.send(
          new GetItemCommand({ TableName: tableName(), Key: { pk: { S: `message#${body}` } } }),
        );
        return Item;
      });
      expect(item.receiveCount?.N).toBe("1");
    }
    const deadLetter = await eventually(async () => {
      const { Messages } = await runtime.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl("DeadLetters"), WaitTimeSeconds: 1 }),
      );
      return Messages?.[0];
    }, 40);
    expect(deadLetter.Body).toBe("poison");
    const { Attributes } = await runtime.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: work, AttributeNames: ["ApproximateNumberOfMessages"] }),
    );
    expect(Attributes?.ApproximateNumberOfMessages).toBe("0");
  });
});

describe("stacks of one assembly", () => {
  it("resolves another stack's exports of names, URLs and ARNs", () => {
    const outputs = runtime.outputs[FIXTURE_SECOND_STACK];

    expect(outputs?.HandoffQueueUrl).toBe(queueUrl("Handoff"));
    expect(outputs?.MachineArn).toBe(runtime.stepFunctions.list()[0]?.arn);
    expect(outputs?.ImportedBucket).toBe(ref("Files/Resource"));
  });

  it("runs a function on another stack's queue, into another stack's table it names by import", async () => {
    await runtime.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl("Handoff"), MessageBody: "relayed" }));

    const item = await eventually(async () => {
      const { Item } = await runtime.clients.dynamodb.send(
        new GetItemCommand({ TableName: tableName(), Key: { pk: { S: "message#relayed" } } }),
      );
      return Item;
    });

    expect(item?.pk?.S).toBe("message#relayed");
  });
});

describe("Step Functions", () => {
  it("runs a Map over a Lambda task and a DynamoDB task, started by a function through the Step Functions API", async () => {
    const response = await fetch(`${apiUrl()}jobs`, { method: "POST", body: JSON.stringify({ numbers: [1, 2, 3] }) });
    const { executionArn } = (await response.json()) as { executionArn: string };
    const sfn = new SFNClient({
      endpoint: runtime.endpoints.stepfunctions,
      region: runtime.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });

    const finished = await eventually(async () => {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return execution.status === "RUNNING" ? undefined : execution;
    });

    expect(response.status).toBe(202);
    expect(finished.status).toBe("SUCCEEDED");
    expect(JSON.parse(finished.output ?? "null")).toEqual([2, 4, 6]);
    const { Item } = await runtime.clients.dynamodb.send(
      new GetItemCommand({ TableName: tableName(), Key: { pk: { S: `job#${finished.name}` } } }),
    );
    expect(Item?.doubled?.S).toBe("[2,4,6]");
  });

  it("fails the execution with the function's error type when a task throws", async () => {
    const sfn = new SFNClient({
      endpoint: runtime.endpoints.stepfunctions,
      region: runtime.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const machine = runtime.stepFunctions.list()[0];
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machine?.arn, input: JSON.stringify({ numbers: [1, "two"] }) }),
    );

    const finished = await eventually(async () => {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return execution.status === "RUNNING" ? undefined : execution;
    });

    expect(finished.status).toBe("FAILED");
    expect(finished.error).toBe("TypeError");
  });
});

describe("scheduled rules and timeouts", () => {
  it("fires a scheduled rule on demand with a scheduled event", async () => {
    await runtime.runRule(ref("Nightly/Resource"));
    const { Item } = await runtime.clients.dynamodb.send(
      new GetItemCommand({ TableName: tableName(), Key: { pk: { S: "tick" } } }),
    );

    expect(Item).toMatchObject({ source: { S: "aws.events" }, detailType: { S: "Scheduled Event" } });
  });

  it("stops a function that outlives its timeout and reports Sandbox.Timedout", async () => {
    const sleeper = runtime.lambdas.list().find((fn) => fn.logicalId.startsWith("Sleeper"));

    await expect(runtime.lambdas.invoke(String(sleeper?.name), {})).rejects.toMatchObject({
      errorType: "Sandbox.Timedout",
    });
  });
});

describe("KMS signing keys", () => {
  it("signs with an asymmetric key whose public half verifies the signature", async () => {
    const kms = new KMSClient({
      endpoint: runtime.endpoints.kms,
      region: runtime.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const keyId = ref("Signer/Resource");
    const message = Buffer.from("header.payload");

    const { Signature } = await kms.send(
      new SignCommand({ KeyId: keyId, Message: message, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" }),
    );
    const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    const publicKey = createPublicKey({ key: Buffer.from(PublicKey ?? []), format: "der", type: "spki" });

    expect(verify("sha256", message, publicKey, Buffer.from(Signature ?? []))).toBe(true);
    expect(verify("sha256", Buffer.from("tampered"), publicKey, Buffer.from(Signature ?? []))).toBe(false);
  });
});

describe("execution environments", () => {
  it("fails the invocation whose stray error kills the environment, then serves from a fresh one kept warm", async () => {
    const crasher = String(runtime.lambdas.list().find((fn) => fn.logicalId.startsWith("Crasher"))?.name);

    await expect(runtime.lambdas.invoke(crasher, { crash: true })).rejects.toMatchObject({ errorType: "Error" });
    await expect(runtime.lambdas.invoke(crasher, {})).resolves.toEqual({ calls: 1 });
    await expect(runtime.lambdas.invoke(crasher, {})).resolves.toEqual({ calls: 2 });
  });
});

describe("state across restarts", () => {
  it("keeps table items, bucket objects and queued messages when the runtime restarts on the same data folder", async () => {
    const bucket = ref("Files/Resource");
    await runtime.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: "kept.txt", Body: "still here" }));
    await runtime.clients.dynamodb.send(
      new PutItemCommand({ TableName: tableName(), Item: { pk: { S: "kept" }, note: { S: "still here" } } }),
    );

    await runtime.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl("DeadLetters"), MessageBody: "parked" }),
    );

    await runtime.stop();
    runtime = await startLocalRuntime({ assemblyDir, dataDir });
    const { Messages } = await runtime.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl("DeadLetters"), MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const object = await runtime.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: "kept.txt" }));
    const { Item } = await runtime.clients.dynamodb.send(
      new GetItemCommand({ TableName: tableName(), Key: { pk: { S: "kept" } } }),
    );

    expect(await object.Body?.transformToString()).toBe("still here");
    expect(Item?.note?.S).toBe("still here");
    expect(Messages?.map((message) => message.Body)).toContain("parked");
  });
});
