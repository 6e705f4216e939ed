import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRemoteJWKSet } from "jose";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { agentNodeRoutes } from "../../api/agent-nodes.ts";
import { runCli } from "../../cli/dscp.ts";
import type { AgentConfig } from "../../domain/agent/config.ts";
import { AGENT_RELEASE } from "../../domain/agent/release.ts";
import { verifyAgentConfig } from "../../domain/agent/signed-config.ts";
import type { ProblemDetails } from "../../domain/problem.ts";
import { temporaryDir } from "../runtime/helpers.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorld, runId, type World } from "./world.ts";

/*
 * The platform's side of Agent Nodes (Art. 7.3d, 22.4), through the API on the deployment under
 * test: central configuration, fetched signed and verified with the published key set only;
 * revisions; heartbeats; the operator's list of nodes.
 */

const { apiUrl, audience } = target();
const run = runId();
let world: World;
let citizens: string;
let provider: string;

const served = (datasetId: string): AgentConfig["serves"][number] => ({
  datasetId,
  backend: "population-db",
  sql: {
    table: "public.citizens",
    keyColumn: "personal_id",
    fields: { personalId: "personal_id", fullName: "full_name", province: "province_code" },
    filterable: ["province"],
  },
});

beforeAll(async () => {
  world = await createWorld({ run });
  provider = world.provider.systemId;
  citizens = `${provider}.CITIZENS`;
  await world.client(world.provider).publishDataset(citizensDataset(citizens, provider));
});

describe("an Agent Node's central configuration", () => {
  it("is set by the operator, and the node fetches it signed, verifiable with the published key set only", async () => {
    const stored = await world.admin.setAgentConfig(provider, { serves: [served(citizens)] });
    const fetched = await world.client(world.provider).sendRoute(agentNodeRoutes.getAgentConfig, {
      path: { systemId: provider },
    });
    const body = fetched.body as { revision: number; config: AgentConfig; signed: string };
    const keySet = createRemoteJWKSet(new URL("v1/platform/keys", apiUrl));
    const verified = await verifyAgentConfig(body.signed, keySet, provider, { issuer: audience });

    expect(stored).toMatchObject({ systemId: provider, revision: 1, updatedBy: "NDC.OPERATOR" });
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get("etag")).toBe('"1"');
    expect(verified.revision).toBe(1);
    expect(verified.config.serves).toEqual([{ ...served(citizens), path: "/citizens" }]);
    await expect(verifyAgentConfig(body.signed, keySet, world.consumer.systemId)).rejects.toThrow();
  });

  it("takes each change as the next revision, and answers 304 to a node that holds the current one", async () => {
    const changed = await world
      .client(world.provider)
      .setAgentConfig(provider, { serves: [served(citizens)], calls: [citizens] });
    const current = await world.client(world.provider).sendRoute(agentNodeRoutes.getAgentConfig, {
      path: { systemId: provider },
      headers: { "If-None-Match": '"2"' },
    });
    const stale = await world.client(world.provider).sendRoute(agentNodeRoutes.getAgentConfig, {
      path: { systemId: provider },
      headers: { "If-None-Match": '"1"' },
    });

    expect(changed).toMatchObject({ revision: 2, updatedBy: provider, config: { calls: [citizens] } });
    expect(current.status).toBe(304);
    expect(current.headers.get("etag")).toBe('"2"');
    expect(stale.status).toBe(200);
    expect(stale.body).toMatchObject({ revision: 2 });
  });

  it("cannot be set or read by another agency", async () => {
    const consumer = world.client(world.consumer);
    const set = await consumer.sendRoute(agentNodeRoutes.setAgentConfig, {
      path: { systemId: provider },
      body: { calls: [] },
    });
    const read = await consumer.sendRoute(agentNodeRoutes.getAgentConfig, { path: { systemId: provider } });

    expect(set.status).toBe(403);
    expect(read.status).toBe(403);
    expect((await world.admin.getAgentConfig(provider)).revision).toBe(2);
  });

  it("is 404 for a system that has none", async () => {
    const response = await world.admin.sendRoute(agentNodeRoutes.getAgentConfig, {
      path: { systemId: world.consumer.systemId },
    });

    expect(response.status).toBe(404);
  });

  it("is refused when it breaks the schema, naming every invalid field", async () => {
    const response = await world.admin.sendRoute(agentNodeRoutes.setAgentConfig, {
      path: { systemId: provider },
      body: {
        serves: [{ ...served(citizens), sql: { ...served(citizens).sql, table: "citizens; drop table x" }, rest: {} }],
        publishes: [{ datasetId: citizens, backend: "db", everySeconds: 1 }],
      },
    });
    const problem = response.body as ProblemDetails;

    expect(response.status).toBe(400);
    expect(problem.type).toBe("urn:dscp:problem:validation-failed");
    expect(problem.invalidParams?.map((param) => param.name)).toEqual(
      expect.arrayContaining([
        "serves/0/sql/table",
        "serves/0/rest/recordPath",
        "publishes/0/source",
        "publishes/0/everySeconds",
      ]),
    );
  });

  it("is refused when it serves a dataset the system does not provide or calls one that does not exist, naming each", async () => {
    const response = await world.admin.sendRoute(agentNodeRoutes.setAgentConfig, {
      path: { systemId: world.consumer.systemId },
      body: { serves: [served(citizens)], calls: [`${provider}.NOWHERE`] },
    });
    const problem = response.body as ProblemDetails;

    expect(response.status).toBe(400);
    expect(problem.invalidParams).toEqual([
      { name: "serves/0/datasetId", reason: `${citizens} is provided by ${provider}, not ${world.consumer.systemId}` },
      { name: "calls/0", reason: `no dataset ${provider}.NOWHERE in the catalog` },
    ]);
  });
});

describe("heartbeats and the node list", () => {
  const heartbeat = (version: string, configRevision: number) => ({
    version,
    configRevision,
    health: "ok" as const,
    startedAt: new Date(Date.now() - 60_000).toISOString(),
  });

  it("takes a heartbeat from the node itself, answering the revision it should apply and the current release", async () => {
    const answer = await world.client(world.provider).sendHeartbeat(provider, heartbeat("0.0.1", 1));
    const byOperator = await world.admin.sendRoute(agentNodeRoutes.sendHeartbeat, {
      path: { systemId: provider },
      body: heartbeat("0.0.1", 1),
    });

    expect(answer).toEqual({ configRevision: 2, release: AGENT_RELEASE });
    expect(byOperator.status).toBe(403);
  });

  it("shows the operator each node's version, last heartbeat and revisions, flagging the ones out of date", async () => {
    await world.client(world.consumer).sendHeartbeat(world.consumer.systemId, heartbeat(AGENT_RELEASE, 0));

    const listed = await world.admin.listAgentNodes({ agency: world.providerAgency });
    const consumerNodes = await world.admin.listAgentNodes({ agency: world.consumerAgency });
    const own = await world.client(world.consumer).listAgentNodes();
    const other = await world.client(world.consumer).sendRoute(agentNodeRoutes.listAgentNodes, {
      query: { agency: world.providerAgency },
    });

    expect(listed.items).toEqual([
      expect.objectContaining({
        systemId: provider,
        agencyCode: world.providerAgency,
        version: "0.0.1",
        lastSeenAt: expect.any(String),
        configRevision: 1,
        currentConfigRevision: 2,
        health: "ok",
        outOfDate: true,
        configOutOfDate: true,
      }),
    ]);
    expect(consumerNodes.items).toEqual([
      expect.objectContaining({ systemId: world.consumer.systemId, outOfDate: false, configOutOfDate: false }),
    ]);
    expect(own.items.map((node) => node.systemId)).toEqual([world.consumer.systemId]);
    expect(other.status).toBe(403);
  });
});

describe("dscp agent-nodes", () => {
  const folder = temporaryDir("dscp-agent-nodes-");

  async function dscp(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const code = await runCli([...argv, "--key", inject("operatorKeyFile")], {
      stdout: (text) => {
        out += text;
      },
      stderr: (text) => {
        err += text;
      },
      env: { DSCP_API_URL: apiUrl, DSCP_AUDIENCE: audience },
      cwd: folder,
    });
    return { code, out, err };
  }

  it("sets a configuration from a file, shows it and lists the nodes", async () => {
    writeFileSync(join(folder, "cfg.json"), JSON.stringify({ serves: [served(citizens)] }));

    const set = await dscp("agent-nodes", "config", "set", provider, "--file", "cfg.json");
    const show = await dscp("agent-nodes", "config", "show", provider);
    const list = await dscp("agent-nodes", "list", "--agency", world.providerAgency);
    const refused = await dscp("agent-nodes", "config", "set", provider, "--file", "missing.json");

    expect(set.code).toBe(0);
    expect(JSON.parse(set.out)).toMatchObject({ systemId: provider, revision: 3 });
    expect(JSON.parse(show.out)).toMatchObject({ revision: 3, config: { serves: [{ path: "/citizens" }] } });
    expect(JSON.parse(show.out)).not.toHaveProperty("signed");
    expect(list.out.split("\n")[0]).toMatch(/^systemId\s+version\s+outOfDate/);
    expect(list.out).toContain(provider);
    expect(refused.code).toBe(2);
  });
});

describe("concurrent changes to one configuration", () => {
  it("are each stored as a revision of their own: none is lost", async () => {
    const before = (await world.admin.getAgentConfig(provider)).revision;

    const changes = await Promise.all([
      world.admin.setAgentConfig(provider, { serves: [served(citizens)], calls: [] }),
      world.client(world.provider).setAgentConfig(provider, { serves: [served(citizens)], calls: [citizens] }),
    ]);
    const after = await world.admin.getAgentConfig(provider);

    expect(changes.map((change) => change.revision).sort((a, b) => a - b)).toEqual([before + 1, before + 2]);
    expect(after.revision).toBe(before + 2);
    expect(after.config).toEqual(changes.find((change) => change.revision === before + 2)?.config);
  });
});
