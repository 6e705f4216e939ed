#!/usr/bin/env node
// `npx dscp …` in this repository: runs the TypeScript CLI (cli/dscp.ts) through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./dscp.ts");
await main();
