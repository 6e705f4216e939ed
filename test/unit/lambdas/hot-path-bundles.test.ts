import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

/*
 * The functions every exchange runs (authoriser, exchange, log appender) bundle without the
 * X-Ray SDK: importing it installs async hooks on every promise and patches http, a large share
 * of their CPU per exchange. Bundled as the stacks bundle them (ESM, service clients external).
 */

const entry = (path: string) => fileURLToPath(new URL(`../../../lambdas/${path}`, import.meta.url));

async function bundledPackages(path: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry(path)],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    target: "node22",
    mainFields: ["module", "main"],
    external: ["@aws-sdk/client-*"],
    logLevel: "silent",
  });
  return Object.keys(result.metafile.inputs);
}

const tracing = (inputs: string[]) => inputs.filter((input) => /aws-xray-sdk|cls-hooked/.test(input));

describe("the exchange path's bundles", () => {
  it.each([
    ["authoriser", "authorizer/handler.ts"],
    ["exchange function", "exchange/handler.ts"],
    ["log appender", "exchange-log/appender.ts"],
  ])("leave the X-Ray SDK out of the %s", async (_name, path) => {
    expect(tracing(await bundledPackages(path))).toEqual([]);
  });

  it("keep it in functions off the exchange path, which record subsegments", async () => {
    expect(tracing(await bundledPackages("registry/handler.ts")).length).toBeGreaterThan(0);
  });
});
