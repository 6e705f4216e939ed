import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { AGENT_NODE_CONFIG, type Synthesized, synthesizeAgentNode } from "./synth.ts";

/* The AgentNode construct: an agency's node on Lambda in its own account, nag-clean. */

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesizeAgentNode();
}, 120_000);

describe("AgentNode", () => {
  it("finds nothing unacknowledged by cdk-nag, each acknowledgement with its reason", () => {
    const violations = synthesized.report
      .filter((report) => /AwsSolutions|Serverless/i.test(report.pluginName))
      .flatMap((report) =>
        report.violations.map((item) => `${item.ruleName} at ${item.violatingConstructs[0]?.constructPath}`),
      );

    expect(synthesized.error).toBeUndefined();
    expect(violations).toEqual([]);
    for (const { id, reason } of synthesized.acknowledgments) expect(reason.length, id).toBeGreaterThan(40);
  });

  it("serves the node behind a function URL the node authenticates itself, and outputs it", () => {
    synthesized.template.hasResourceProperties("AWS::Lambda::Url", { AuthType: "NONE", InvokeMode: "BUFFERED" });
    synthesized.template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      TracingConfig: { Mode: "Active" },
      Environment: {
        Variables: Match.objectLike({
          DSCP_AGENT_CONFIG: JSON.stringify(AGENT_NODE_CONFIG),
          DSCP_AGENT_SECRET_ARN: Match.anyValue(),
        }),
      },
    });
    expect(Object.keys(synthesized.template.findOutputs("AgentNodeUrl"))).toHaveLength(1);
  });

  it("keeps secrets in Secrets Manager under a rotating key of its own, readable by the node only", () => {
    synthesized.template.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    synthesized.template.hasResourceProperties("AWS::SecretsManager::Secret", { KmsKeyId: Match.anyValue() });
    const policies = Object.values(synthesized.template.findResources("AWS::IAM::Policy"));
    const statements = policies.flatMap(
      (policy) => policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
    );
    const secretReads = statements.filter((statement) =>
      [statement.Action].flat().includes("secretsmanager:GetSecretValue"),
    );
    expect(secretReads).toHaveLength(1);
    expect(JSON.stringify(secretReads[0]?.Resource)).toContain("Secret");
    expect(JSON.stringify(statements)).not.toContain('"Resource":"*","Action":"secretsmanager');
  });

  it("wakes the node every minute to heartbeat and refresh its configuration", () => {
    synthesized.template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      Targets: [Match.objectLike({ Input: JSON.stringify({ dscpAgentTick: true }) })],
    });
  });
});
