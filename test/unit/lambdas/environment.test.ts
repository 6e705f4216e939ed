import { describe, expect, it } from "vitest";
import { healthEnvironment } from "../../../lambdas/health/environment.ts";
import { EnvironmentError, parseEnvironment } from "../../../lambdas/shared/environment.ts";

const valid = {
  DSCP_STAGE: "local",
  DSCP_VERSION: "0.1.0",
  POWERTOOLS_SERVICE_NAME: "dscp-health",
  POWERTOOLS_METRICS_NAMESPACE: "DSCP",
  REGISTRY_TABLE_NAME: "registry",
};

describe("parseEnvironment", () => {
  it("returns the typed variables when the contract holds", () => {
    expect(parseEnvironment(healthEnvironment, valid)).toMatchObject({
      DSCP_STAGE: "local",
      REGISTRY_TABLE_NAME: "registry",
    });
  });

  it("names every missing or malformed variable", () => {
    const attempt = () =>
      parseEnvironment(healthEnvironment, { ...valid, DSCP_STAGE: "staging", REGISTRY_TABLE_NAME: undefined });

    expect(attempt).toThrow(EnvironmentError);
    expect(attempt).toThrow(/DSCP_STAGE.*REGISTRY_TABLE_NAME|REGISTRY_TABLE_NAME.*DSCP_STAGE/);
  });
});
