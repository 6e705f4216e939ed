#!/usr/bin/env node
// `npx dscp-agent …` in this repository: runs the Agent Node's TypeScript (agent/cli.ts) through tsx.
// Installed elsewhere, the node runs as one bundled file: `npm run build:agent`, then `node dist/dscp-agent.mjs`.
import { register } from "tsx/esm/api";

register();
await import("./cli.ts");
