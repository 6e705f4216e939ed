import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalConfigError, loadLocalConfig, parseLocalConfig } from "../../../agent/config.ts";

const HASH = "a".repeat(64);
const minimal = {
  platform: {
    apiUrl: "http://127.0.0.1:3000/prod/",
    audience: "urn:dscp:local",
    systemId: "MPS.POPULATION",
    keyFile: "keys/node.json",
  },
  consumer: { clients: [{ name: "hr-portal", apiKeySha256: HASH }] },
};

/** The settings a configuration is refused for, by name. */
function refusedSettings(value: unknown, env: NodeJS.ProcessEnv = {}): Record<string, string> {
  try {
    parseLocalConfig(value, { env });
  } catch (error) {
    if (!(error instanceof LocalConfigError)) throw error;
    return Object.fromEntries(error.problems.map((problem) => [problem.setting, problem.message]));
  }
  throw new Error("accepted");
}

describe("the node's local configuration", () => {
  it("fills listeners and log level with defaults and resolves the key file from the base folder", () => {
    const config = parseLocalConfig(minimal, { baseDir: "/etc/dscp-agent" });

    expect(config.platform.keyFile).toBe("/etc/dscp-agent/keys/node.json");
    expect(config.consumer).toMatchObject({ host: "127.0.0.1", port: 8080 });
    expect(config.provider).toMatchObject({ host: "0.0.0.0", port: 8443 });
    expect(config.ops).toEqual({ host: "127.0.0.1", port: 9090 });
    expect(config.logLevel).toBe("info");
  });

  it("names each invalid setting by its path, indexes included", () => {
    const refused = refusedSettings({
      ...minimal,
      platform: { ...minimal.platform, apiUrl: "ftp://x" },
      consumer: {
        clients: [
          { name: "a", apiKeySha256: HASH },
          { name: "b", apiKeySha256: "abc" },
        ],
      },
      ops: { port: 70000 },
    });

    expect(refused["consumer.clients[1].apiKeySha256"]).toBe("must be 64 hex characters");
    expect(refused["platform.apiUrl"]).toBe("must be an http(s) URL");
    expect(refused["ops.port"]).toMatch(/65535/);
  });

  it("names a missing required setting", () => {
    const { keyFile: _omitted, ...platform } = minimal.platform;

    expect(Object.keys(refusedSettings({ ...minimal, platform }))).toEqual(["platform.keyFile"]);
  });

  it("resolves env:NAME references, and names the setting whose variable is not set", () => {
    const value = { ...minimal, consumer: { clients: [{ name: "hr", apiKeySha256: "env:HR_KEY_HASH" }] } };

    expect(parseLocalConfig(value, { env: { HR_KEY_HASH: HASH } }).consumer.clients[0]?.apiKeySha256).toBe(HASH);
    expect(refusedSettings(value)).toEqual({
      "consumer.clients[0].apiKeySha256": "environment variable HR_KEY_HASH is not set",
    });
  });

  it("refuses a client named twice and an mTLS client without mTLS", () => {
    const refused = refusedSettings({
      ...minimal,
      consumer: {
        clients: [
          { name: "hr", apiKeySha256: HASH },
          { name: "hr", certificateSubject: "hr-portal" },
        ],
      },
    });

    expect(refused).toEqual({
      "consumer.clients[1].name": "hr is named twice",
      "consumer.clients[1].certificateSubject": "needs consumer.tls (mTLS) to be configured",
    });
  });

  it("refuses a client that cannot be identified", () => {
    expect(refusedSettings({ ...minimal, consumer: { clients: [{ name: "none" }] } })).toEqual({
      "consumer.clients[0]": "needs apiKeySha256 or certificateSubject",
    });
  });

  it("names an invalid backend setting below its backend's name", () => {
    const refused = refusedSettings({ ...minimal, backends: { registry: { type: "rest" } } });

    expect(Object.keys(refused)).toEqual(["backends.registry.baseUrl"]);
  });

  it("loads a file, and names the file when it is not JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "agent-config-"));
    writeFileSync(join(dir, "good.json"), JSON.stringify(minimal));
    writeFileSync(join(dir, "bad.json"), "{ not json");

    expect(loadLocalConfig(join(dir, "good.json"), {}).platform.keyFile).toBe(join(dir, "keys/node.json"));
    expect(() => loadLocalConfig(join(dir, "bad.json"), {})).toThrow(/bad\.json is not JSON/);
  });
});

describe("the example configuration", () => {
  it("is valid once its secrets are in the environment", () => {
    const example = new URL("../../../agent/examples/agent.json", import.meta.url).pathname;

    const config = loadLocalConfig(example, { DSCP_AGENT_HR_PORTAL_KEY_SHA256: HASH });

    expect(Object.keys(config.backends)).toEqual(["population-db", "registry-api"]);
    expect(config.consumer.clients[0]?.apiKeySha256).toBe(HASH);
  });
});
