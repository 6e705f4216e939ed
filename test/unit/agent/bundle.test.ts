import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAgent } from "../../../agent/build.ts";
import { AGENT_VERSION } from "../../../agent/version.ts";

let bundle: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "agent-bundle-"));
  bundle = await buildAgent(join(dir, "dscp-agent.mjs"));
});

const node = (...args: string[]) => execFileSync(process.execPath, [bundle, ...args], { encoding: "utf8" });

describe("the bundled Agent Node", () => {
  it("builds into one file that node runs, printing its version", () => {
    expect(node("version")).toBe(`${AGENT_VERSION}\n`);
  });

  it("makes a key, then runs from it with nothing but node, and stops on SIGTERM", async () => {
    const config = join(dir, "agent.json");
    writeFileSync(
      config,
      JSON.stringify({
        // No platform here: the node keeps serving health and retries.
        platform: {
          apiUrl: "http://127.0.0.1:9/",
          audience: "urn:dscp:test",
          systemId: "MPS.POPULATION",
          keyFile: "k.json",
        },
        consumer: { port: 0 },
        provider: { host: "127.0.0.1", port: 0 },
        ops: { port: 0 },
      }),
    );
    expect(node("keygen", "--config", config)).toContain("systems add MPS.POPULATION");

    const child = spawn(process.execPath, [bundle, "run", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const opsUrl = await new Promise<string>((resolve, reject) => {
      let text = "";
      child.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
        const started = /"msg":"node started".*"opsUrl":"([^"]+)"/.exec(text);
        if (started?.[1]) resolve(started[1]);
      });
      child.on("exit", () => reject(new Error(`exited before starting: ${text}`)));
    });

    const health = await fetch(`${opsUrl}/healthz`);
    child.kill("SIGTERM");

    expect(health.status).toBe(200);
    expect(await exited).toBe(0);
  });
});
