import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type App, type Stack, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { createAgentNodeApp } from "../../lib/agent-node/app.ts";
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

/** The context `cdk synth` runs the app with (cdk.json's feature flags), so tests see what deploys. */
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(new URL("../../cdk.json", import.meta.url), "utf8")) as { context: Record<string, unknown> }
).context;

/**
 * Synthesizes the platform for a stage with cdk-nag's AwsSolutions and Serverless packs
 * registered as validation plugins, and returns its templates and the validation report. The
 * functions' code is not bundled: no assertion reads it, and synth takes a fraction of the time.
 */
export function synthesizePlatform(stage: StageName, options: { nag?: boolean } = {}): Synthesized {
  const outdir = temporaryDir(`synth-${stage}`);
  const { app, stacks } = createApp({
    outdir,
    context: { ...CDK_JSON_CONTEXT, "dscp:stage": stage, "aws:cdk:bundling-stacks": [] },
  });
  return synthesizeWithNag(app, stacks, outdir, options);
}

/** A node's local configuration, as an agency would deploy it (no secret: those live in the secret). */
export const AGENT_NODE_CONFIG = {
  platform: {
    apiUrl: "https://api.dscp.example.gov.vn/v1",
    audience: "urn:dscp:prod",
    systemId: "MPS.POPULATION",
    keyFile: "key.json",
  },
  consumer: { clients: [{ name: "case-system", apiKeySha256: "a".repeat(64) }] },
  backends: {
    population: {
      type: "sql",
      host: "db.internal",
      port: 5432,
      database: "population",
      user: "dscp",
      password: "env:POPULATION_DB_PASSWORD",
    },
  },
};

/** Synthesizes the Agent Node app (lib/agent-node/app.ts) for {@link AGENT_NODE_CONFIG}, with cdk-nag. */
export function synthesizeAgentNode(options: { nag?: boolean } = {}): Synthesized {
  const outdir = temporaryDir("synth-agent-node");
  const configFile = join(outdir, "agent.json");
  writeFileSync(configFile, JSON.stringify(AGENT_NODE_CONFIG));
  const { app, stack } = createAgentNodeApp({
    outdir,
    context: { ...CDK_JSON_CONTEXT, "agent:config": configFile, "aws:cdk:bundling-stacks": [] },
  });
  return synthesizeWithNag(app, [stack], outdir, options);
}

export interface Synthesized {
  /**
   * Every stack's resources and outputs in one template, each cross-stack import replaced by
   * the value its producer exports: the platform as one graph, whichever stack holds what.
   */
  readonly template: Template;
  /** Each stack's own template, by stack name. */
  readonly stacks: Readonly<Record<string, Template>>;
  /** The cloud assembly's folder, with a `<artifact id>.template.json` per stack. */
  readonly outdir: string;
  /** Each stack's template file, in the assembly's folder. */
  readonly templateFiles: readonly string[];
  readonly report: PluginReport[];
  /** Every acknowledged rule in the construct tree, where and why. */
  readonly acknowledgments: Array<{ path: string; id: string; reason: string }>;
  readonly error?: unknown;
}

type TemplateJson = {
  Resources?: Record<string, { Type: string }>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
};

/**
 * Synthesizes `app` with cdk-nag's packs (unless `nag` is false: its report is then empty) and
 * reads back `stacks`' templates and the report.
 */
export function synthesizeWithNag(
  app: App,
  stacks: readonly Stack[],
  outdir: string,
  { nag = true }: { nag?: boolean } = {},
): Synthesized {
  if (nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  let error: unknown;
  try {
    app.synth();
  } catch (caught) {
    error = caught;
  }
  const report = (
    nag ? JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) : { pluginReports: [] }
  ) as { pluginReports: PluginReport[] };
  const templateFiles = stacks.map((stack) => join(outdir, `${stack.artifactId}.template.json`));
  const templates = stacks.map((stack, index) => ({
    name: stack.stackName,
    json: JSON.parse(readFileSync(templateFiles[index] as string, "utf8")) as TemplateJson,
  }));
  const acknowledgments = app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .filter(([id]) => /AwsSolutions|Serverless/.test(id))
      .map(([id, reason]) => ({ path: construct.node.path, id, reason })),
  );
  return {
    template: Template.fromJSON(mergeTemplates(templates.map(({ json }) => json))),
    stacks: Object.fromEntries(templates.map(({ name, json }) => [name, Template.fromJSON(json)])),
    outdir,
    templateFiles,
    report: report.pluginReports,
    acknowledgments,
    ...(error ? { error } : {}),
  };
}

/**
 * One template of several stacks' resources and outputs, `Fn::ImportValue` of each export
 * replaced by the exported value (a Ref or GetAtt of the producer's resource). A logical id
 * used by two stacks (CDK's metadata aside) would make the merge ambiguous, so it throws.
 */
export function mergeTemplates(templates: readonly TemplateJson[]): TemplateJson {
  const exported = new Map<string, unknown>();
  for (const template of templates) {
    for (const output of Object.values(template.Outputs ?? {})) {
      if (typeof output.Export?.Name === "string") exported.set(output.Export.Name, output.Value);
    }
  }
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== "object") return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first?.[0] === "Fn::ImportValue" && typeof first[1] === "string") {
      if (!exported.has(first[1])) throw new Error(`no stack exports ${first[1]}`);
      return exported.get(first[1]);
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, resolve(item)]));
  };
  const merged: Required<TemplateJson> = { Resources: {}, Outputs: {} };
  for (const template of templates) {
    for (const [section, entries] of [
      ["Resources", template.Resources ?? {}],
      ["Outputs", template.Outputs ?? {}],
    ] as const) {
      for (const [id, entry] of Object.entries(entries)) {
        if ((entry as { Type?: string }).Type === "AWS::CDK::Metadata") continue;
        if (id in merged[section]) throw new Error(`${section}.${id} is in two stacks`);
        (merged[section] as Record<string, unknown>)[id] = resolve(entry);
      }
    }
  }
  return merged;
}
