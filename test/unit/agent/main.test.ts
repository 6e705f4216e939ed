import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../../agent/main.ts";
import { AGENT_VERSION } from "../../../agent/version.ts";

/** Runs a command line, capturing what it prints. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let out = "";
  let err = "";
  const code = await main(argv, { stdout: (text) => (out += text), stderr: (text) => (err += text), env });
  return { code, out, err };
}

function configIn(dir: string, extra: object = {}): string {
  const file = join(dir, "agent.json");
  writeFileSync(
    file,
    JSON.stringify({
      platform: {
        apiUrl: "http://127.0.0.1:1/prod/",
        audience: "urn:dscp:test",
        systemId: "MPS.POPULATION",
        keyFile: "node-key.json",
      },
      ...extra,
    }),
  );
  return file;
}

describe("dscp-agent", () => {
  it("prints its version", async () => {
    expect(await run(["version"])).toEqual({ code: 0, out: `${AGENT_VERSION}\n`, err: "" });
  });

  it("makes the key named in the configuration and prints the command that registers it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-main-"));
    const config = configIn(dir);

    const { code, out } = await run(["keygen", "--config", config]);

    expect(code).toBe(0);
    expect(statSync(join(dir, "node-key.json")).mode & 0o777).toBe(0o600);
    expect(out).toContain(
      `npx dscp systems add MPS.POPULATION --public-key ${join(dir, "public", "MPS.POPULATION.json")}`,
    );
  });

  it("checks a configuration, naming the invalid setting and exiting 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-main-"));
    const good = configIn(dir);
    await run(["keygen", "--config", good]);
    const bad = configIn(dir, { consumer: { clients: [{ name: "hr", apiKeySha256: "nope" }] } });

    expect((await run(["check-config", "--config", bad])).err).toContain(
      "consumer.clients[0].apiKeySha256: must be 64 hex characters",
    );
    expect((await run(["check-config", "--config", bad])).code).toBe(1);
  });

  it("accepts a valid configuration whose key file is in place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-main-"));
    const config = configIn(dir);
    await run(["keygen", "--config", config]);

    const { code, out } = await run(["check-config", "--config", config]);

    expect(code).toBe(0);
    expect(out).toMatch(/valid; system MPS\.POPULATION signs with key /);
  });

  it("says in one line what failed when the key file cannot be written, exit code 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-main-"));
    writeFileSync(join(dir, "not-a-folder"), "");

    const { code, err } = await run([
      "keygen",
      "--system-id",
      "MPS.X",
      "--key-file",
      join(dir, "not-a-folder", "k.json"),
    ]);

    expect(code).toBe(1);
    expect(err).toMatch(/^dscp-agent keygen: E[A-Z]+: .*not-a-folder.*\n$/);
  });

  it("refuses an unknown command with its usage, exit code 2", async () => {
    const { code, err } = await run(["fly"]);

    expect(code).toBe(2);
    expect(err).toContain("unknown command fly");
  });
});
