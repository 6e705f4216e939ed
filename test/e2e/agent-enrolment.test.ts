import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { loadKeyFile, signingIdentity } from "../../agent/keys.ts";
import { main as dscpAgent } from "../../agent/main.ts";
import { runCli } from "../../cli/dscp.ts";
import { DscpClient } from "../../client/dscp-client.ts";
import { temporaryDir } from "../runtime/helpers.ts";
import { target } from "./target.ts";
import { runId } from "./world.ts";

/*
 * Enrolment as an agency does it: dscp-agent makes the node's key on the node and prints the
 * dscp command that registers it; the operator runs that command as printed; the node's tokens
 * are then accepted, and a rotated key takes over with overlap.
 */

const { apiUrl, audience } = target();
const run = runId();
const agency = `A${run}`;
const system = `${agency}.REGISTRY`;
const folder = temporaryDir("dscp-agent-enrol-");
const keysDir = join(folder, "operator-keys");
const keyFile = join(folder, "node", "node-key.json");

/** Runs a command line as the operator, with the operator's keys folder. */
async function dscp(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env: { DSCP_API_URL: apiUrl, DSCP_AUDIENCE: audience, DSCP_KEYS_DIR: keysDir },
    cwd: folder,
  });
  return { code, out, err };
}

/** What `dscp-agent <argv>` printed. */
async function agent(...argv: string[]): Promise<string> {
  let out = "";
  const code = await dscpAgent(argv, { stdout: (text) => (out += text), stderr: () => {}, env: {} });
  if (code !== 0) throw new Error(`dscp-agent ${argv.join(" ")} exited ${code}`);
  return out;
}

/** The `npx dscp …` line dscp-agent printed, as words, its placeholders filled, signed by the operator. */
function printedCommand(out: string, fill: Record<string, string> = {}): string[] {
  let line = String(/^\s*npx dscp (.+)$/m.exec(out)?.[1]);
  for (const [placeholder, value] of Object.entries(fill)) line = line.replace(placeholder, value);
  const words = [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((match) => match[1] ?? (match[2] as string));
  return [...words, "--as", "NDC.OPERATOR"];
}

/** Whether the platform accepts a signed call from the node's key file, signing with the newest of `kids`. */
async function nodeCallStatus(kids?: string[]): Promise<number> {
  const identity = signingIdentity(loadKeyFile(keyFile), kids);
  const client = new DscpClient({ baseUrl: apiUrl, audience, identity });
  return (await client.send("GET", "/v1/agencies")).status;
}

beforeAll(async () => {
  mkdirSync(keysDir, { recursive: true });
  copyFileSync(inject("operatorKeyFile"), join(keysDir, "NDC.OPERATOR.json"));
  const added = await dscp([
    "agencies",
    "add",
    agency,
    "--name",
    "Sở (kiểm thử)",
    "--level",
    "provincial",
    "--as",
    "NDC.OPERATOR",
  ]);
  if (added.code !== 0) throw new Error(added.err);
});

describe("an Agent Node's enrolment", () => {
  it("registers the node's key with the command dscp-agent keygen printed, and the node's calls are accepted", async () => {
    const printed = await agent("keygen", "--system-id", system, "--key-file", keyFile);

    const registered = await dscp(
      printedCommand(printed, {
        '"<system name>"': '"Registry node"',
        "<the node's provider URL>": "https://node.example.gov.vn",
      }),
    );

    expect(registered.code).toBe(0);
    expect(await nodeCallStatus()).toBe(200);
  });

  it("rotates with overlap: the next key is registered as printed, signs once listed, and the old one is revoked", async () => {
    const first = loadKeyFile(keyFile).keys[0]?.kid as string;
    const printed = await agent("keygen", "--system-id", system, "--key-file", keyFile, "--next");
    const next = loadKeyFile(keyFile).keys[1]?.kid as string;

    const added = await dscp(printedCommand(printed));
    const revoked = await dscp(["keys", "revoke", system, first, "--as", "NDC.OPERATOR"]);

    expect(added.code).toBe(0);
    expect(revoked.code).toBe(0);
    expect(await nodeCallStatus([first, next])).toBe(200);
    expect(await nodeCallStatus([first])).toBe(401);
  });
});
