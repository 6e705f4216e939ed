import type { APIGatewayProxyEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { callerOf } from "../../../lambdas/shared/caller.ts";

const eventWith = (authorizer: Record<string, string>) =>
  ({ requestContext: { authorizer } }) as unknown as APIGatewayProxyEvent;

const context = {
  systemId: "HCM.PORTAL",
  agencyCode: "HCM",
  roles: "",
  capabilities: "consumer",
  kid: "k1",
  jti: "j1",
  bodyDigest: "",
};

describe("the caller a function reads from the authoriser's context", () => {
  it("names the end user and case the request token named", () => {
    const caller = callerOf(eventWith({ ...context, endUser: "Nguyễn Văn An", caseRef: "HS-1" }));

    expect(caller).toMatchObject({ systemId: "HCM.PORTAL", endUser: "Nguyễn Văn An", caseRef: "HS-1" });
  });

  it("names neither when the context holds them empty, as the authoriser passes an absent claim", () => {
    const caller = callerOf(eventWith({ ...context, endUser: "", caseRef: "" }));

    expect(caller).not.toHaveProperty("endUser");
    expect(caller).not.toHaveProperty("caseRef");
  });
});
