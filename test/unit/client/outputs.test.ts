import { describe, expect, it } from "vitest";
import { OutputsError, platformOutputs } from "../../../client/outputs.ts";

describe("platformOutputs", () => {
  it("gathers every stack's outputs into one record", () => {
    const outputs = platformOutputs({
      "Dscp-local-Data": { RegistryTableName: "registry" },
      "Dscp-local-Identity": { BootstrapFunctionName: "bootstrap" },
      "Dscp-local-Api": { ApiUrl: "http://127.0.0.1:3000/", PlatformAudience: "urn:dscp:local" },
    });

    expect(outputs).toEqual({
      RegistryTableName: "registry",
      BootstrapFunctionName: "bootstrap",
      ApiUrl: "http://127.0.0.1:3000/",
      PlatformAudience: "urn:dscp:local",
    });
  });

  it("reads the single stack of an older outputs file as it is", () => {
    const stack = { ApiUrl: "https://example.test/dev/", RegistryTableName: "registry" };

    expect(platformOutputs({ "Dscp-dev": stack })).toEqual(stack);
  });

  it("accepts the same output from two stacks when they agree", () => {
    expect(platformOutputs({ A: { ApiStage: "dev" }, B: { ApiStage: "dev" } })).toEqual({ ApiStage: "dev" });
  });

  it("refuses a file whose stacks give one output two values, naming both stacks", () => {
    const twoDeployments = { "Dscp-dev-Api": { ApiUrl: "https://dev/" }, "Dscp-prod-Api": { ApiUrl: "https://prod/" } };

    expect(() => platformOutputs(twoDeployments)).toThrow(OutputsError);
    expect(() => platformOutputs(twoDeployments)).toThrow(/Dscp-dev-Api and Dscp-prod-Api both output ApiUrl/);
  });
});
