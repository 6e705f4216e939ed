import { describe, expect, it } from "vitest";
import {
  AwsCallCounter,
  awsCaller,
  awsOperation,
  callsBetween,
  callsByOperation,
  estimatedRequestUnits,
  functionAppId,
  MAX_APP_ID_LENGTH,
} from "../../../runtime/aws-calls.ts";
import { cpuMsFromStat } from "../../../runtime/lambda-host.ts";

const request = (method: string, url: string, headers: Record<string, string> = {}) => ({ method, url, headers });

describe("awsOperation", () => {
  it("names JSON-protocol calls from their target header", () => {
    expect(awsOperation(request("POST", "/", { "x-amz-target": "DynamoDB_20120810.Query" }))).toBe("dynamodb:Query");
    expect(awsOperation(request("POST", "/", { "x-amz-target": "AmazonSQS.SendMessageBatch" }))).toBe(
      "sqs:SendMessageBatch",
    );
    expect(awsOperation(request("POST", "/", { "x-amz-target": "TrentService.Sign" }))).toBe("kms:Sign");
    expect(awsOperation(request("POST", "/", { "x-amz-target": "AWSStepFunctions.StartExecution" }))).toBe(
      "states:StartExecution",
    );
  });

  it("names query-protocol SQS calls and Lambda invocations", () => {
    expect(awsOperation(request("POST", "/?Action=ReceiveMessage"))).toBe("sqs:ReceiveMessage");
    expect(awsOperation(request("POST", "/2015-03-31/functions/Fn/invocations"))).toBe("lambda:Invoke");
  });

  it("names S3 calls by method and path shape", () => {
    expect(awsOperation(request("GET", "/bucket/a/b.json"))).toBe("s3:GetObject");
    expect(awsOperation(request("GET", "/bucket/a/b.json?X-Amz-Signature=abc"))).toBe("s3:GetObject");
    expect(awsOperation(request("PUT", "/bucket/a"))).toBe("s3:PutObject");
    expect(awsOperation(request("PUT", "/bucket/a", { "x-amz-copy-source": "/bucket/b" }))).toBe("s3:CopyObject");
    expect(awsOperation(request("HEAD", "/bucket/a"))).toBe("s3:HeadObject");
    expect(awsOperation(request("DELETE", "/bucket/a"))).toBe("s3:DeleteObject");
    expect(awsOperation(request("POST", "/bucket/a?uploads"))).toBe("s3:CreateMultipartUpload");
    expect(awsOperation(request("PUT", "/bucket/a?partNumber=2&uploadId=u"))).toBe("s3:UploadPart");
    expect(awsOperation(request("POST", "/bucket/a?uploadId=u"))).toBe("s3:CompleteMultipartUpload");
    expect(awsOperation(request("GET", "/bucket?list-type=2&prefix=a"))).toBe("s3:ListObjectsV2");
    expect(awsOperation(request("PUT", "/bucket"))).toBe("s3:CreateBucket");
    expect(awsOperation(request("POST", "/bucket?delete"))).toBe("s3:DeleteObjects");
  });
});

describe("awsCaller", () => {
  it("is the SDK's application id when its user agent carries one, else the runtime", () => {
    expect(awsCaller({ "x-amz-user-agent": "aws-sdk-js/3.1 ua/2.1 os/linux app/ExchangeFn1234" })).toBe(
      "ExchangeFn1234",
    );
    expect(awsCaller({ "user-agent": "aws-sdk-js/3.1 app/Appender" })).toBe("Appender");
    expect(awsCaller({ "x-amz-user-agent": "app/ExchangeFn-PT-NO-OP-2.36.0-PTEnv-AWS_Lambda_nodejs22.x" })).toBe(
      "ExchangeFn",
    );
    expect(awsCaller({ "x-amz-user-agent": "app/IdentityAuthorizerFunctionBEB42DDE-PTEnv-local" })).toBe(
      "IdentityAuthorizerFunctionBEB42DDE",
    );
    expect(awsCaller({ "user-agent": "aws-sdk-js/3.1 lang/js" })).toBe("runtime");
    expect(awsCaller({})).toBe("runtime");
  });
});

describe("functionAppId", () => {
  it("names the function and keeps Powertools from lengthening it past the SDK's 50 characters", () => {
    const id = functionAppId("ExchangeLogAppenderReadWithAVeryLongLogicalIdD6505696");

    expect(id.length).toBeLessThanOrEqual(MAX_APP_ID_LENGTH);
    expect(id).toContain("/PTEnv/");
    expect(awsCaller({ "x-amz-user-agent": `app/${id.replaceAll("/", "-")}` })).toBe(
      "ExchangeLogAppenderReadWithAVeryLongLo",
    );
  });
});

describe("AwsCallCounter", () => {
  it("counts per caller and operation; differences and sums drop callers and operations as asked", () => {
    const counter = new AwsCallCounter();
    counter.record(request("POST", "/", { "x-amz-target": "DynamoDB_20120810.GetItem", "user-agent": "app/Auth" }));
    const before = counter.snapshot();
    counter.record(request("POST", "/", { "x-amz-target": "DynamoDB_20120810.GetItem", "user-agent": "app/Auth" }));
    counter.record(request("POST", "/", { "x-amz-target": "DynamoDB_20120810.PutItem", "user-agent": "app/Log" }));
    counter.record(request("POST", "/", { "x-amz-target": "DynamoDB_20120810.GetItem" }));
    const window = callsBetween(before, counter.snapshot());

    expect(window).toEqual({
      Auth: { "dynamodb:GetItem": 1 },
      Log: { "dynamodb:PutItem": 1 },
      runtime: { "dynamodb:GetItem": 1 },
    });
    expect(callsByOperation(window, (caller) => caller !== "runtime")).toEqual({
      "dynamodb:GetItem": 1,
      "dynamodb:PutItem": 1,
    });
    expect(counter.snapshot().Auth).toEqual({ "dynamodb:GetItem": 2 });
  });
});

describe("estimatedRequestUnits", () => {
  it("counts a DynamoDB read per started 4 KB of response and a write per started 1 KB of request, at least one", () => {
    expect(estimatedRequestUnits("dynamodb:GetItem", { request: 200, response: 10 })).toEqual({
      kind: "read",
      units: 1,
    });
    expect(estimatedRequestUnits("dynamodb:Query", { request: 200, response: 4097 })).toEqual({
      kind: "read",
      units: 2,
    });
    expect(estimatedRequestUnits("dynamodb:PutItem", { request: 2048, response: 2 })).toEqual({
      kind: "write",
      units: 2,
    });
    expect(estimatedRequestUnits("dynamodb:UpdateItem", { request: 2049, response: 2 })).toEqual({
      kind: "write",
      units: 3,
    });
    expect(estimatedRequestUnits("dynamodb:DescribeTable", { request: 10, response: 10 })).toBeUndefined();
    expect(estimatedRequestUnits("sqs:SendMessage", { request: 10, response: 10 })).toBeUndefined();
  });
});

describe("cpuMsFromStat", () => {
  it("adds utime and stime (fields 14 and 15, in 10 ms ticks), whatever the command name holds", () => {
    const stat = "4242 (node worker (x) y) S 1 2 3 0 -1 4194304 99 0 0 0 150 25 0 0 20 0 1 0 1395188";
    expect(cpuMsFromStat(stat)).toBe(1750);
  });
});
