import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** A CloudFormation template as the CDK synthesised it. */
export interface Template {
  readonly Parameters?: Record<string, { Type: string; Default?: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Resources: Record<string, TemplateResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown }; Condition?: string }>;
}

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly Condition?: string;
  readonly Metadata?: Record<string, unknown>;
}

/** One stack of the cloud assembly, with where its file assets were staged. */
export interface StackArtifact {
  readonly artifactId: string;
  readonly stackName: string;
  readonly template: Template;
  /** S3 object key of each file asset (e.g. `<hash>.zip`) → the staged directory or file. */
  readonly assets: ReadonlyMap<string, string>;
  readonly dependencies: readonly string[];
}

interface Manifest {
  artifacts?: Record<
    string,
    { type: string; properties?: Record<string, unknown>; dependencies?: string[]; displayName?: string }
  >;
}

interface AssetManifest {
  files?: Record<string, { source: { path?: string }; destinations: Record<string, { objectKey: string }> }>;
}

/** Thrown when a directory is not a readable cloud assembly. */
export class AssemblyError extends Error {
  override readonly name = "AssemblyError";
}

/**
 * Reads the stacks of a cloud assembly (`cdk.out`) in deployment order: a stack comes after the
 * stacks it depends on, so imports resolve.
 */
export function readAssembly(directory: string): StackArtifact[] {
  const dir = resolve(directory);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
  } catch (error) {
    throw new AssemblyError(`no cloud assembly in ${dir}: run cdk synth first`, { cause: error });
  }
  const artifacts = manifest.artifacts ?? {};
  const assetsById = new Map<string, Map<string, string>>();
  for (const [id, artifact] of Object.entries(artifacts)) {
    if (artifact.type !== "cdk:asset-manifest") continue;
    const file = JSON.parse(readFileSync(join(dir, String(artifact.properties?.file)), "utf8")) as AssetManifest;
    const byKey = new Map<string, string>();
    for (const asset of Object.values(file.files ?? {})) {
      if (!asset.source.path) continue;
      for (const destination of Object.values(asset.destinations)) {
        byKey.set(destination.objectKey, join(dir, asset.source.path));
      }
    }
    assetsById.set(id, byKey);
  }

  const stacks = new Map<string, StackArtifact>();
  for (const [id, artifact] of Object.entries(artifacts)) {
    if (artifact.type !== "aws:cloudformation:stack") continue;
    const props = artifact.properties ?? {};
    const template = JSON.parse(readFileSync(join(dir, String(props.templateFile)), "utf8")) as Template;
    const dependencies = artifact.dependencies ?? [];
    const assets = new Map<string, string>();
    for (const dependency of dependencies) {
      for (const [key, path] of assetsById.get(dependency) ?? []) assets.set(key, path);
    }
    stacks.set(id, {
      artifactId: id,
      stackName: typeof props.stackName === "string" ? props.stackName : id,
      template,
      assets,
      dependencies: dependencies.filter((dependency) => artifacts[dependency]?.type === "aws:cloudformation:stack"),
    });
  }
  return deploymentOrder(stacks);
}

function deploymentOrder(stacks: Map<string, StackArtifact>): StackArtifact[] {
  const ordered: StackArtifact[] = [];
  const visiting = new Set<string>();
  const visit = (id: string) => {
    const stack = stacks.get(id);
    if (!stack || ordered.includes(stack)) return;
    if (visiting.has(id)) throw new AssemblyError(`stacks depend on each other in a cycle through ${id}`);
    visiting.add(id);
    for (const dependency of stack.dependencies) visit(dependency);
    visiting.delete(id);
    ordered.push(stack);
  };
  for (const id of stacks.keys()) visit(id);
  return ordered;
}
