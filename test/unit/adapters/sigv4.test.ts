import { Sha256 } from "@smithy/core/checksum";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { EMPTY_PAYLOAD_SHA256, sha256Hex, signRequest } from "../../../adapters/aws/sigv4.ts";

// AWS's Signature Version 4 test suite (aws-sig-v4-test-suite): its credentials, time and scope.
const SUITE_CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const SUITE_DATE = new Date("2015-08-30T12:36:00Z");
const SUITE_SCOPE = { region: "us-east-1", service: "service" };
const SUITE_PREFIX = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

describe("signRequest (SigV4)", () => {
  it("signs the suite's post-vanilla request as AWS publishes it", () => {
    const signed = signRequest({
      method: "POST",
      path: "/",
      headers: { Host: "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z" },
      payloadHash: EMPTY_PAYLOAD_SHA256,
      credentials: SUITE_CREDENTIALS,
      scope: SUITE_SCOPE,
      date: SUITE_DATE,
    });

    expect(signed.authorization).toBe(
      `${SUITE_PREFIX}, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`,
    );
  });

  it("signs the suite's post-x-www-form-urlencoded request (a body and a content type) as AWS publishes it", () => {
    const signed = signRequest({
      method: "POST",
      path: "/",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Host: "example.amazonaws.com",
        "X-Amz-Date": "20150830T123600Z",
      },
      payloadHash: sha256Hex("Param1=value1"),
      credentials: SUITE_CREDENTIALS,
      scope: SUITE_SCOPE,
      date: SUITE_DATE,
    });

    expect(signed.signedHeaders).toBe("content-type;host;x-amz-date");
    expect(signed.signature).toBe("ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a");
  });

  it("signs with the right key after signing on other days and in other scopes (the key cache)", () => {
    const sign = (date: Date, region: string) =>
      signRequest({
        method: "POST",
        path: "/",
        headers: { host: "example.amazonaws.com", "x-amz-date": date.toISOString().replace(/[:-]|\.\d{3}/g, "") },
        payloadHash: EMPTY_PAYLOAD_SHA256,
        credentials: SUITE_CREDENTIALS,
        scope: { region, service: "service" },
        date,
      }).signature;
    const vanilla = sign(SUITE_DATE, "us-east-1");

    sign(new Date("2015-08-31T00:00:01Z"), "us-east-1");
    sign(SUITE_DATE, "eu-west-1");

    expect(sign(SUITE_DATE, "us-east-1")).toBe(vanilla);
  });

  it("signs a DynamoDB JSON request with a session token exactly as the SDK's SignatureV4 does", async () => {
    const credentials = { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret/+key", sessionToken: "token==" };
    const body = JSON.stringify({ TableName: "t", Key: { pk: { S: "a  b" } } });
    const headers = {
      "content-type": "application/x-amz-json-1.0",
      host: "127.0.0.1:8000",
      "x-amz-date": "20261130T043000Z",
      "x-amz-target": "DynamoDB_20120810.GetItem",
      "x-amz-security-token": "token==",
    };
    const sdk = new SignatureV4({
      credentials,
      region: "ap-southeast-1",
      service: "dynamodb",
      sha256: Sha256,
      applyChecksum: false,
    });
    const expected = await sdk.sign(
      { method: "POST", protocol: "http:", hostname: "127.0.0.1", port: 8000, path: "/", headers, body },
      { signingDate: new Date("2026-11-30T04:30:00Z") },
    );

    const signed = signRequest({
      method: "POST",
      path: "/",
      headers,
      payloadHash: sha256Hex(body),
      credentials,
      scope: { region: "ap-southeast-1", service: "dynamodb" },
      date: new Date("2026-11-30T04:30:00Z"),
    });

    expect(signed.authorization).toBe(expected.headers.authorization);
  });
});
