import { createLocalJWKSet, decodeProtectedHeader, type JWK } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { type AgentConfig, agentConfig } from "../../../domain/agent/config.ts";
import { AgentNodeService } from "../../../domain/agent/node-registry.ts";
import {
  type AgentConfigRecord,
  type AgentNodeState,
  type AgentNodeStore,
  isOlderRelease,
  matchesRevision,
  type SignedAgentConfigRecord,
} from "../../../domain/agent/nodes.ts";
import { signAgentConfig, verifyAgentConfig } from "../../../domain/agent/signed-config.ts";
import type { Dataset } from "../../../domain/catalog/model.ts";
import { environmentKeys } from "../../../domain/identity/key-certificate.ts";
import { signPlatformToken, verifyPlatformToken } from "../../../domain/identity/platform-token.ts";
import { ForbiddenError, NotFoundError, type ProblemError, ValidationError } from "../../../domain/problem.ts";
import type { Caller, SystemRecord } from "../../../domain/registry/model.ts";
import { memoryRegistry, platformKeyFixture } from "./fixtures.ts";

const ISSUER = "urn:dscp:test";
const platform = platformKeyFixture("platform-key-1");
const keySet = createLocalJWKSet({ keys: [platform.jwk as JWK] });
const keys = environmentKeys(platform.signer);

const caller = (systemId: string, roles: Caller["roles"] = []): Caller => ({
  systemId,
  agencyCode: systemId.split(".")[0] ?? "",
  roles,
  capabilities: ["provider", "consumer"],
  kid: "k1",
});
const operator = caller("NDC.OPERATOR", ["platform-admin"]);

const system = (id: string): SystemRecord => ({
  id,
  agencyCode: id.split(".")[0] ?? "",
  name: `${id} node`,
  capabilities: ["provider", "consumer"],
  roles: [],
  status: "active",
  createdAt: "2026-11-30T00:00:00.000Z",
});

const dataset = (id: string, providerSystem: string, upstreamPath?: string) =>
  ({ id, providerSystem, ...(upstreamPath ? { upstreamPath } : {}) }) as unknown as Dataset;

/** Configurations and nodes in memory, with the store's contract: a revision only over the one it follows. */
function memoryNodes(): AgentNodeStore & { nodes: Map<string, AgentNodeState> } {
  const configs = new Map<string, AgentConfigRecord>();
  const nodes = new Map<string, AgentNodeState>();
  return {
    nodes,
    getConfig: async (systemId) => configs.get(systemId),
    putConfig: async (record, node) => {
      if ((configs.get(record.systemId)?.revision ?? 0) !== record.revision - 1) return false;
      configs.set(record.systemId, record);
      const known = nodes.get(record.systemId);
      nodes.set(record.systemId, {
        ...known,
        systemId: record.systemId,
        ...node,
        currentConfigRevision: record.revision,
      });
      return true;
    },
    recordHeartbeat: async ({ systemId, agencyCode, name, ...beat }) => {
      const known = nodes.get(systemId);
      nodes.set(systemId, { ...known, systemId, agencyCode, name, ...beat });
      return known?.currentConfigRevision ?? 0;
    },
    listNodes: async (filter) => ({
      items: [...nodes.values()].filter((node) => !filter.agency || node.agencyCode === filter.agency),
    }),
  };
}

const served: AgentConfig["serves"][number] = {
  datasetId: "MPS.POPULATION.CITIZENS",
  backend: "population-db",
  sql: {
    table: "public.citizens",
    keyColumn: "personal_id",
    fields: { personalId: "personal_id", province: "province" },
  },
};
const config = (overrides: Partial<AgentConfig> = {}) => ({
  serves: [served],
  calls: ["HCM.PORTAL.CASES"],
  ...overrides,
});

let store: ReturnType<typeof memoryNodes>;
let registry: ReturnType<typeof memoryRegistry>;
let service: AgentNodeService;

beforeEach(() => {
  registry = memoryRegistry();
  for (const id of ["MPS.POPULATION", "HCM.PORTAL"]) registry.systems.set(id, system(id));
  const catalog = new Map([
    ["MPS.POPULATION.CITIZENS", dataset("MPS.POPULATION.CITIZENS", "MPS.POPULATION", "/citizens")],
    ["MPS.POPULATION.REGISTER", dataset("MPS.POPULATION.REGISTER", "MPS.POPULATION")],
    ["HCM.PORTAL.CASES", dataset("HCM.PORTAL.CASES", "HCM.PORTAL", "/cases")],
  ]);
  store = memoryNodes();
  service = new AgentNodeService({
    store,
    registry,
    catalog: { getDataset: async (id) => catalog.get(id) },
    sign: (systemId, revision, signedConfig) =>
      signAgentConfig(keys, { issuer: ISSUER, systemId, revision, config: signedConfig }),
    now: () => new Date("2026-11-30T08:00:00.000Z"),
  });
});

async function refusal(promise: Promise<unknown>): Promise<ProblemError> {
  try {
    await promise;
  } catch (error) {
    return error as ProblemError;
  }
  throw new Error("not refused");
}

describe("setting a node's configuration", () => {
  it("stores revision 1, then 2, with each served dataset's path from the catalog", async () => {
    const first = await service.setConfig(operator, "MPS.POPULATION", config());
    const second = await service.setConfig(caller("MPS.POPULATION"), "MPS.POPULATION", config({ calls: [] }));

    expect(first).toMatchObject({ systemId: "MPS.POPULATION", revision: 1, updatedBy: "NDC.OPERATOR" });
    expect(first.config.serves[0]?.path).toBe("/citizens");
    expect(second).toMatchObject({ revision: 2, updatedBy: "MPS.POPULATION", config: { calls: [] } });
  });

  it("lets an agency configure its own systems only, and tells another agency nothing of which exist", async () => {
    const other = await refusal(service.setConfig(caller("HCM.PORTAL"), "MPS.POPULATION", config()));
    const absent = await refusal(service.setConfig(caller("HCM.PORTAL"), "MPS.NOTHING", config()));
    const ownAbsent = await refusal(service.setConfig(caller("MPS.POPULATION"), "MPS.NOTHING", config()));

    expect(other).toBeInstanceOf(ForbiddenError);
    expect(absent).toBeInstanceOf(ForbiddenError);
    expect(ownAbsent).toBeInstanceOf(NotFoundError);
  });

  it("lets no sibling configure a system that holds a platform role", async () => {
    registry.systems.set("NDC.OPERATOR", { ...system("NDC.OPERATOR"), roles: ["platform-admin"] });

    const bySibling = await refusal(service.setConfig(caller("NDC.OTHER"), "NDC.OPERATOR", { calls: [] }));
    const byItself = await service.setConfig(operator, "NDC.OPERATOR", { calls: [] });

    expect(bySibling).toBeInstanceOf(ForbiddenError);
    expect(byItself.revision).toBe(1);
  });

  it("names every dataset that does not fit: not provided here, without an upstream path, or unknown", async () => {
    const error = await refusal(
      service.setConfig(
        operator,
        "MPS.POPULATION",
        config({
          serves: [
            served,
            { ...served, datasetId: "HCM.PORTAL.CASES" },
            { ...served, datasetId: "MPS.POPULATION.REGISTER" },
          ],
          calls: ["MPS.POPULATION.NOWHERE"],
          subscriptions: [{ subscriptionId: "X@Y", datasetId: "HCM.PORTAL.CASES", store: "local-db", table: "cases" }],
          publishes: [
            {
              datasetId: "HCM.PORTAL.CASES",
              backend: "population-db",
              source: { table: "cases", keyColumn: "id", watermarkColumn: "updated_at", fields: { caseId: "id" } },
              everySeconds: 60,
            },
          ],
        }),
      ),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.invalidParams.map((param) => param.name)).toEqual([
      "serves/1/datasetId",
      "serves/2/datasetId",
      "calls/0",
      "subscriptions/0/subscriptionId",
      "publishes/0/datasetId",
    ]);
  });

  it("names every field that breaks the schema", async () => {
    const error = await refusal(
      service.setConfig(operator, "MPS.POPULATION", {
        serves: [
          { ...served, sql: { ...served.sql, table: "Citizens; DROP TABLE x" }, rest: { recordPath: "/c/{key}" } },
        ],
        calls: ["MPS.POPULATION.CITIZENS", "MPS.POPULATION.CITIZENS"],
        publishes: [{ datasetId: "MPS.POPULATION.CITIZENS", backend: "db", source: {}, everySeconds: 5 }],
      }),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.invalidParams.map((param) => param.name)).toEqual(
      expect.arrayContaining([
        "serves/0/sql/table",
        "serves/0/rest",
        "calls/1",
        "publishes/0/source/table",
        "publishes/0/everySeconds",
      ]),
    );
  });
  it("refuses a configuration larger than the API takes, naming the body", async () => {
    const fields = Object.fromEntries(
      Array.from({ length: 200 }, (_, index) => [
        `f${String(index).padStart(62, "0")}`,
        `c${String(index).padStart(61, "0")}`,
      ]),
    );
    const large = ["A", "B", "C"].map((name) => ({
      ...served,
      datasetId: `MPS.POPULATION.${name}`,
      sql: { ...served.sql, fields },
    }));

    const error = await refusal(service.setConfig(operator, "MPS.POPULATION", { serves: large }));

    expect(error).toBeInstanceOf(ValidationError);
    expect(error.invalidParams).toEqual([{ name: "(body)", reason: "must be at most 65536 bytes as JSON" }]);
  });
});

describe("reading a node's configuration", () => {
  it("signs it so that it verifies with nothing but the published key set", async () => {
    await service.setConfig(operator, "MPS.POPULATION", config());

    const read = (await service.getConfig(caller("MPS.POPULATION"), "MPS.POPULATION")) as SignedAgentConfigRecord;
    const verified = await verifyAgentConfig(read.signed, keySet, "MPS.POPULATION", { issuer: ISSUER });

    expect(verified.revision).toBe(1);
    expect(verified.config).toEqual(read.config);
    expect(verified.config.serves[0]?.path).toBe("/citizens");
  });

  it("answers not modified when If-None-Match names the current revision", async () => {
    await service.setConfig(operator, "MPS.POPULATION", config());
    await service.setConfig(operator, "MPS.POPULATION", config());

    expect(await service.getConfig(operator, "MPS.POPULATION", '"2"')).toEqual({ notModified: true, revision: 2 });
    expect(await service.getConfig(operator, "MPS.POPULATION", '"1"')).toHaveProperty("signed");
  });

  it("is 404 when none was ever set, and refused to another agency", async () => {
    expect(await refusal(service.getConfig(operator, "HCM.PORTAL"))).toBeInstanceOf(NotFoundError);
    expect(await refusal(service.getConfig(caller("HCM.PORTAL"), "MPS.POPULATION"))).toBeInstanceOf(ForbiddenError);
  });
});

describe("a signed configuration", () => {
  const signed = () =>
    signAgentConfig(keys, {
      issuer: ISSUER,
      systemId: "MPS.POPULATION",
      revision: 3,
      config: agentConfig.parse(config()),
    });

  it("verifies as a platform token too, of its own type, for the system as audience", async () => {
    const token = await signed();
    const { payload } = await verifyPlatformToken(token, keySet, { issuer: ISSUER, audience: "MPS.POPULATION" });

    expect(payload).toMatchObject({ iss: ISSUER, aud: "MPS.POPULATION", sub: "MPS.POPULATION", rev: 3 });
    expect(decodeProtectedHeader(token).typ).toBe("dscp-agent-config+jwt");
  });

  it("is refused when it is a platform call's token instead", async () => {
    const call = await signPlatformToken(keys, {
      issuer: ISSUER,
      audience: "MPS.POPULATION",
      method: "GET",
      path: "/x",
    });

    await expect(verifyAgentConfig(call, keySet, "MPS.POPULATION")).rejects.toThrow(/type/);
  });

  it("is refused when its payload was altered", async () => {
    const [header, payload, signature] = (await signed()).split(".");
    const claims = JSON.parse(Buffer.from(String(payload), "base64url").toString("utf8"));
    const altered = Buffer.from(
      JSON.stringify({ ...claims, cfg: { ...claims.cfg, calls: ["MPS.POPULATION.CITIZENS"] } }),
    );

    await expect(
      verifyAgentConfig(`${header}.${altered.toString("base64url")}.${signature}`, keySet, "MPS.POPULATION"),
    ).rejects.toThrow(/signature/);
  });

  it("is refused for another system, and signed by a key the platform did not certify", async () => {
    const stranger = platformKeyFixture("platform-key-1");
    const forged = await signAgentConfig(environmentKeys(stranger.signer), {
      issuer: ISSUER,
      systemId: "MPS.POPULATION",
      revision: 1,
      config: agentConfig.parse({}),
    });

    await expect(verifyAgentConfig(await signed(), keySet, "HCM.PORTAL")).rejects.toThrow();
    await expect(verifyAgentConfig(forged, keySet, "MPS.POPULATION")).rejects.toThrow();
  });

  it("expires within the hour its key's certificate covers", async () => {
    const now = new Date();
    const verified = await verifyAgentConfig(await signed(), keySet, "MPS.POPULATION");

    expect(verified.issuedAt).toBeLessThanOrEqual(Math.ceil(now.getTime() / 1000));
    await expect(
      verifyAgentConfig(await signed(), keySet, "MPS.POPULATION", { now: new Date(now.getTime() + 3700_000) }),
    ).rejects.toThrow();
  });
});

describe("heartbeats and the node list", () => {
  const beat = { version: "0.0.9", configRevision: 1, health: "ok", startedAt: "2026-11-30T07:00:00Z" };

  it("take a heartbeat from the system itself only, answering the revision to apply and the release", async () => {
    await service.setConfig(operator, "MPS.POPULATION", config());
    await service.setConfig(operator, "MPS.POPULATION", config());

    const answer = await service.heartbeat(caller("MPS.POPULATION"), "MPS.POPULATION", beat);
    const byOperator = await refusal(service.heartbeat(operator, "MPS.POPULATION", beat));
    const malformed = await refusal(service.heartbeat(caller("MPS.POPULATION"), "MPS.POPULATION", { health: "great" }));

    expect(answer).toEqual({ configRevision: 2, release: "0.1.0" });
    expect(byOperator).toBeInstanceOf(ForbiddenError);
    expect(malformed.invalidParams.map((param) => param.name)).toEqual(
      expect.arrayContaining(["version", "configRevision", "health", "startedAt"]),
    );
  });

  it("list a node with an old version and an old revision as out of date; an agency sees its own only", async () => {
    await service.setConfig(operator, "MPS.POPULATION", config());
    await service.setConfig(operator, "MPS.POPULATION", config());
    await service.heartbeat(caller("MPS.POPULATION"), "MPS.POPULATION", beat);
    await service.heartbeat(caller("HCM.PORTAL"), "HCM.PORTAL", { ...beat, version: "0.1.0", configRevision: 0 });

    const all = await service.listNodes(operator, {}, { limit: 10 });
    const own = await service.listNodes(caller("HCM.PORTAL"), {}, { limit: 10 });
    const other = await refusal(service.listNodes(caller("HCM.PORTAL"), { agency: "MPS" }, { limit: 10 }));

    expect(all.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          systemId: "MPS.POPULATION",
          version: "0.0.9",
          lastSeenAt: "2026-11-30T08:00:00.000Z",
          configRevision: 1,
          currentConfigRevision: 2,
          outOfDate: true,
          configOutOfDate: true,
        }),
        expect.objectContaining({ systemId: "HCM.PORTAL", outOfDate: false, configOutOfDate: false }),
      ]),
    );
    expect(own.items.map((node) => node.systemId)).toEqual(["HCM.PORTAL"]);
    expect(other).toBeInstanceOf(ForbiddenError);
  });
});

describe("the configuration schema", () => {
  it("takes a REST-served dataset, and defaults every list to empty", () => {
    const parsed = agentConfig.parse({
      serves: [{ datasetId: "MPS.POPULATION.CITIZENS", backend: "api", rest: { recordPath: "/citizens/{key}" } }],
    });

    expect(parsed).toEqual({
      serves: [{ datasetId: "MPS.POPULATION.CITIZENS", backend: "api", rest: { recordPath: "/citizens/{key}" } }],
      calls: [],
      subscriptions: [],
      publishes: [],
    });
  });

  it("refuses a record path without {key}, a '..' segment, and a filter on an unmapped field", () => {
    const result = agentConfig.safeParse({
      serves: [
        { datasetId: "MPS.POPULATION.A", backend: "api", rest: { recordPath: "/citizens" } },
        { datasetId: "MPS.POPULATION.B", backend: "api", rest: { recordPath: "/../{key}" } },
        {
          datasetId: "MPS.POPULATION.C",
          backend: "db",
          sql: { table: "t", keyColumn: "id", fields: { personalId: "id" }, filterable: ["province"] },
        },
      ],
    });

    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join("/"))).toEqual([
      "serves/0/rest/recordPath",
      "serves/1/rest/recordPath",
      "serves/2/sql/filterable/0",
    ]);
  });
});

describe("release and revision checks", () => {
  it("orders releases by major, minor and patch, a prerelease before its release", () => {
    expect(isOlderRelease("0.0.9", "0.1.0")).toBe(true);
    expect(isOlderRelease("0.1.0", "0.1.0")).toBe(false);
    expect(isOlderRelease("0.10.0", "0.9.0")).toBe(false);
    expect(isOlderRelease("0.1.0-rc.1", "0.1.0")).toBe(true);
    expect(isOlderRelease("1.0.0", "0.1.0")).toBe(false);
  });

  it("matches If-None-Match by revision, weak, listed or any", () => {
    expect(matchesRevision('"3"', 3)).toBe(true);
    expect(matchesRevision('W/"3"', 3)).toBe(true);
    expect(matchesRevision('"1", "3"', 3)).toBe(true);
    expect(matchesRevision("*", 3)).toBe(true);
    expect(matchesRevision('"2"', 3)).toBe(false);
    expect(matchesRevision("3", 3)).toBe(false);
    expect(matchesRevision(undefined, 3)).toBe(false);
  });
});
