import { execFile, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import type { StageName } from "../../lib/stage.ts";
import { temporaryDir } from "../runtime/helpers.ts";
import { synthesizeAgentNode, synthesizePlatform } from "./synth.ts";

/*
 * Every template of every stage, validated as CloudFormation would validate it: cfn-lint checks
 * each resource against CloudFormation's resource specification (types, properties, values,
 * references). It is a Python tool installed on the development and CI machines, not an npm
 * package; where it is missing the test says so and is skipped.
 */

const hasCfnLint = spawnSync("cfn-lint", ["--version"], { stdio: "ignore" }).status === 0;
if (!hasCfnLint) {
  process.stderr.write("cfn-lint is not installed (pip install cfn-lint): the templates are not linted in this run\n");
}

/** Findings of a rule that are not faults of the templates, each with why, and where only. */
const IGNORED: ReadonlyArray<{ rule: string; resourceTypes: readonly string[]; reason: string }> = [
  {
    rule: "E3002",
    resourceTypes: ["AWS::CloudWatch::Dashboard"],
    reason:
      "cfn-lint 1.51's resource specification predates Tags on AWS::CloudWatch::Dashboard, which CloudFormation accepts: CDK tags the dashboard with dscp:stage like every other resource.",
  },
  {
    rule: "W3005",
    resourceTypes: ["AWS::Lambda::Function", "AWS::StepFunctions::StateMachine"],
    reason:
      "CDK makes a function or state machine depend on its role and on the role's policy, so that it is created only once it may do its work; the dependency on the role is also implied by the GetAtt of its ARN, which is harmless.",
  },
];

interface Finding {
  readonly Rule: { readonly Id: string };
  readonly Level: string;
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path?: ReadonlyArray<string | number> };
}

/** Runs cfn-lint on `files`; its findings, as JSON. */
async function lint(files: readonly string[]): Promise<Finding[]> {
  const { stdout } = await promisify(execFile)(
    "cfn-lint",
    ["--format", "json", "--non-zero-exit-code", "none", ...files],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout || "[]") as Finding[];
}

/** Whether a finding is of a rule ignored for the type of the resource it is about. */
function ignored(finding: Finding): boolean {
  const [section, logicalId] = finding.Location.Path ?? [];
  if (section !== "Resources" || typeof logicalId !== "string") return false;
  const template = JSON.parse(readFileSync(finding.Filename, "utf8")) as {
    Resources: Record<string, { Type: string }>;
  };
  const type = template.Resources[logicalId]?.Type ?? "";
  return IGNORED.some((rule) => rule.rule === finding.Rule.Id && rule.resourceTypes.includes(type));
}

const STAGES = ["local", "dev", "prod"] satisfies StageName[];

describe.skipIf(!hasCfnLint)("cfn-lint", () => {
  // One cfn-lint run over every stage's templates: most of its time is starting up.
  const templates = new Map<StageName, readonly string[]>();
  let findings: Finding[] = [];
  let agentNode: readonly string[] = [];
  // A template with a misspelt property, linted in the same run, shows that findings are seen.
  const control = join(temporaryDir("cfn-lint-control"), "control.template.json");
  beforeAll(async () => {
    writeFileSync(
      control,
      JSON.stringify({ Resources: { Careless: { Type: "AWS::SQS::Queue", Properties: { QueueNme: "typo" } } } }),
    );
    for (const stage of STAGES) templates.set(stage, synthesizePlatform(stage, { nag: false }).templateFiles);
    agentNode = synthesizeAgentNode({ nag: false }).templateFiles;
    findings = await lint([control, ...[...templates.values()].flat(), ...agentNode]);
  }, 180_000);

  it("reports a template CloudFormation would refuse, so a clean report means something", () => {
    expect(findings.filter((finding) => finding.Filename === control).map((finding) => finding.Rule.Id)).toContain(
      "E3002",
    );
  });

  it.each(STAGES)(
    "finds nothing wrong in any template of the %s stage, but the findings ignored with their reason",
    (stage) => {
      const files = templates.get(stage) ?? [];
      const reported = findings
        .filter((finding) => files.includes(finding.Filename) && !ignored(finding))
        .map(
          (finding) =>
            `${finding.Rule.Id} ${basename(finding.Filename)} ${finding.Location.Path?.join("/")}: ${finding.Message}`,
        );

      expect(files.length).toBeGreaterThan(1);
      expect(reported).toEqual([]);
    },
  );

  it("finds nothing wrong in an agency's Agent Node template (lib/agent-node)", () => {
    const reported = findings
      .filter((finding) => agentNode.includes(finding.Filename) && !ignored(finding))
      .map((finding) => `${finding.Rule.Id} ${finding.Location.Path?.join("/")}: ${finding.Message}`);

    expect(agentNode).toHaveLength(1);
    expect(reported).toEqual([]);
  });

  it("lists a reason for every rule it ignores", () => {
    for (const rule of IGNORED) expect(rule.reason.length, rule.rule).toBeGreaterThan(40);
  });
});
