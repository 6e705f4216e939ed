// `npm run build:agent`: the Agent Node as one file, dist/dscp-agent.mjs, that runs with
// `node dist/dscp-agent.mjs …` (Node.js ≥ 20) and nothing else installed.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Bundles agent/cli.ts and its dependencies into `outfile`. */
export async function buildAgent(outfile = `${root}dist/dscp-agent.mjs`): Promise<string> {
  await build({
    entryPoints: [`${root}agent/cli.ts`],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: false,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
    // pg's optional native binding: never loaded unless asked for.
    external: ["pg-native"],
    banner: {
      // CommonJS dependencies (pg) require Node's built-ins: give the ES module a require.
      js: [
        "#!/usr/bin/env node",
        'import { createRequire as __dscpCreateRequire } from "node:module";',
        "const require = __dscpCreateRequire(import.meta.url);",
      ].join("\n"),
    },
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`wrote ${await buildAgent(process.argv[2])}\n`);
}
