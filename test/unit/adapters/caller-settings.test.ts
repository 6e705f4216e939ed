import { describe, expect, it } from "vitest";
import { callerSettings } from "../../../adapters/aws/caller-settings.ts";
import { jsonBody } from "../../../adapters/aws/lean-commands.ts";
import { parseDynamoDbJson } from "../../../adapters/aws/lean-dynamodb.ts";

const DYNAMODB = { name: "dynamodb", envName: "DYNAMODB", defaultMaxAttempts: 4 };
const LAMBDA_ENV = {
  AWS_REGION: "ap-southeast-1",
  AWS_ACCESS_KEY_ID: "ASIAEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "secret",
  AWS_SESSION_TOKEN: "token",
};

describe("callerSettings", () => {
  it("reads Lambda's environment: region, credentials with their session token, the regional endpoint", () => {
    const settings = callerSettings(DYNAMODB, {}, LAMBDA_ENV);

    expect(settings).toStrictEqual({
      endpoint: new URL("https://dynamodb.ap-southeast-1.amazonaws.com/"),
      region: "ap-southeast-1",
      credentials: { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token" },
      maxAttempts: 4,
    });
  });

  it("takes the service's own endpoint variable before the general one, and the app id for the user agent", () => {
    const settings = callerSettings(
      DYNAMODB,
      {},
      {
        ...LAMBDA_ENV,
        AWS_ENDPOINT_URL: "http://127.0.0.1:1",
        AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:2",
        AWS_SDK_UA_APP_ID: "ExchangeFunction",
      },
    );

    expect(settings?.endpoint.href).toBe("http://127.0.0.1:2/");
    expect(settings?.appId).toBe("ExchangeFunction");
  });

  it("prefers the client's own endpoint, region, static credentials and attempts to the environment", () => {
    const settings = callerSettings(
      DYNAMODB,
      {
        endpoint: "http://127.0.0.1:3",
        region: "eu-west-1",
        credentials: { accessKeyId: "a", secretAccessKey: "b" },
        maxAttempts: 2,
      },
      { ...LAMBDA_ENV, AWS_MAX_ATTEMPTS: "7" },
    );

    expect(settings).toStrictEqual({
      endpoint: new URL("http://127.0.0.1:3"),
      region: "eu-west-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 2,
    });
  });

  it.each([
    ["a credential provider", { credentials: async () => ({ accessKeyId: "a", secretAccessKey: "b" }) }, {}],
    ["adaptive retries", {}, { AWS_RETRY_MODE: "adaptive" }],
    ["FIPS endpoints", {}, { AWS_USE_FIPS_ENDPOINT: "true" }],
    ["a custom request handler", { requestHandler: {} }, {}],
    ["another partition", {}, { AWS_REGION: "us-gov-west-1" }],
    ["no credentials in the environment", {}, { AWS_ACCESS_KEY_ID: "" }],
    ["no region", {}, { AWS_REGION: "" }],
    ["an endpoint that is no URL", {}, { AWS_ENDPOINT_URL: "not a url" }],
  ])("leaves the client to the SDK given %s", (_case, config, env) => {
    expect(callerSettings(DYNAMODB, config, { ...LAMBDA_ENV, ...env })).toBeUndefined();
  });
});

describe("the lean clients' JSON", () => {
  it("carries binary values as base64 and reads them back as bytes, nested in maps and lists too", () => {
    const item = {
      B: { B: new Uint8Array([0, 255]) },
      nested: { M: { list: { L: [{ BS: [new Uint8Array([1]), Buffer.from([2, 3])] }] } } },
      text: { S: "B" },
    };

    const body = jsonBody({ Item: item });

    expect(JSON.parse(body)).toStrictEqual({
      Item: { B: { B: "AP8=" }, nested: { M: { list: { L: [{ BS: ["AQ==", "AgM="] }] } } }, text: { S: "B" } },
    });
    expect(parseDynamoDbJson(body)).toStrictEqual({
      Item: {
        B: { B: new Uint8Array([0, 255]) },
        nested: { M: { list: { L: [{ BS: [new Uint8Array([1]), new Uint8Array([2, 3])] }] } } },
        text: { S: "B" },
      },
    });
  });
});
