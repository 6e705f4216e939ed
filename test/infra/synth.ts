import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type App, type Stack, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { createApp } from "../../lib/app.ts";
import type { StageName } from "../../lib/stage.ts";
import { temporaryDir } from "../runtime/helpers.ts";

/** One plugin's part of the cloud assembly's validation report. */
export interface PluginReport {
  readonly pluginName: string;
  readonly conclusion: string;
  readonly violations: ReadonlyArray<{
    ruleName: string;
    violatingConstructs: ReadonlyArray<{ constructPath: string }>;
  }>;
  readonly suppressedViolations?: ReadonlyArray<{ ruleName: string; acknowledgedId?: string; reason?: string }>;
}

/**
 * Synthesizes the platform for a stage with cdk-nag's AwsSolutions and Serverless packs
 * registered as validation plugins, and returns the template and the validation report.
 */
export function synthesizePlatform(stage: StageName): Synthesized {
  const outdir = temporaryDir(`synth-${stage}`);
  const { app, stack } = createApp({ outdir, context: { "dscp:stage": stage } });
  return synthesizeWithNag(app, stack, outdir);
}

export interface Synthesized {
  readonly template: Template;
  readonly report: PluginReport[];
  /** Every acknowledged rule in the construct tree, where and why. */
  readonly acknowledgments: Array<{ path: string; id: string; reason: string }>;
  readonly error?: unknown;
}

/** Synthesizes `app` with cdk-nag's packs and reads back `stack`'s template and the report. */
export function synthesizeWithNag(app: App, stack: Stack, outdir: string): Synthesized {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  let error: unknown;
  try {
    app.synth();
  } catch (caught) {
    error = caught;
  }
  const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
    pluginReports: PluginReport[];
  };
  const template = Template.fromJSON(
    JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), "utf8")),
  );
  const acknowledgments = app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .filter(([id]) => /AwsSolutions|Serverless/.test(id))
      .map(([id, reason]) => ({ path: construct.node.path, id, reason })),
  );
  return { template, report: report.pluginReports, acknowledgments, ...(error ? { error } : {}) };
}
