import * as z from "zod/mini";
import { agentConfig } from "../domain/agent/config.ts";
import {
  type AgentConfigRecord,
  type AgentNode,
  agentNodeQuery,
  heartbeatInput,
  NODE_HEALTH,
  type SignedAgentConfigRecord,
} from "../domain/agent/nodes.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { type AllTrue, type Describes, instant, named, page, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/*
 * Agent Nodes (Art. 7.3d, 22.4): each node's central configuration, its heartbeats, and the list
 * of nodes the operator keeps up to date. Served by the registry function.
 */

export const agentConfigRecord = z.object({
  systemId: z.string(),
  revision: z.number().check(z.int(), z.describe("1 for the first configuration, one more for each change")),
  config: agentConfig,
  updatedAt: instant,
  updatedBy: z.string().check(z.describe("The system that set it: the operator's or the agency's")),
});

export const signedAgentConfig = z.object({
  systemId: z.string(),
  revision: z.number().check(z.int()),
  config: agentConfig,
  updatedAt: instant,
  signed: z
    .string()
    .check(
      z.describe(
        "The configuration signed by the platform as its calls are (typ dscp-agent-config+jwt; claims iss, aud = sub = the system, rev, cfg, iat, exp, jti): verify it with the published key set and apply only its cfg",
      ),
    ),
});

export const heartbeatAnswer = z.object({
  configRevision: z
    .number()
    .check(
      z.int(),
      z.describe("The configuration revision the platform holds for the node (0: none): fetch it when it differs"),
    ),
  release: z.string().check(z.describe("The current Agent Node release")),
});

export const agentNode = z.object({
  systemId: z.string(),
  agencyCode: z.string(),
  name: z.string(),
  currentConfigRevision: z.optional(z.number().check(z.int(), z.describe("The revision the platform holds"))),
  version: z.optional(z.string().check(z.describe("The node's version, from its last heartbeat"))),
  configRevision: z.optional(z.number().check(z.int(), z.describe("The revision the node applies"))),
  health: z.optional(z.enum(NODE_HEALTH)),
  detail: z.optional(z.string()),
  startedAt: z.optional(instant),
  lastSeenAt: z.optional(instant.check(z.describe("When its last heartbeat arrived"))),
  outOfDate: z.boolean().check(z.describe("Its version is older than the current release")),
  configOutOfDate: z.boolean().check(z.describe("It applies an older configuration revision than the platform holds")),
});

/** Served by the registry function. */
export const agentNodeRoutes = routes({
  setAgentConfig: {
    method: "PUT",
    path: "/v1/systems/{systemId}/agent-config",
    tag: "Agent Nodes",
    summary: "Set a system's Agent Node configuration: its next revision",
    description:
      "The operator, or the system's own agency. Refused (400, naming each field) when it breaks the schema, serves a dataset " +
      "this system does not provide (or one without an upstreamPath), or names a dataset that does not exist. Each served " +
      "dataset's path is set from the catalog's upstreamPath. Backends are named only: their addresses and secrets stay in the node's own file.",
    auth: "signed",
    body: named("AgentConfig", agentConfig),
    success: {
      status: 200,
      description: "Stored as a new revision",
      schema: named("AgentConfigRecord", agentConfigRecord),
    },
    problems: [...signedProblems, 404, 409],
  },
  getAgentConfig: {
    method: "GET",
    path: "/v1/systems/{systemId}/agent-config",
    tag: "Agent Nodes",
    summary: "A system's Agent Node configuration, signed by the platform",
    description:
      'The system itself, its agency or the operator; 404 when none was ever set. With `If-None-Match: "<revision>"` naming ' +
      "the current revision, 304 and no body. The ETag is the revision.",
    auth: "signed",
    success: {
      status: 200,
      description: "The configuration and the same signed",
      schema: named("SignedAgentConfig", signedAgentConfig),
    },
    problems: [...signedProblems, 404],
  },
  sendHeartbeat: {
    method: "POST",
    path: "/v1/systems/{systemId}/heartbeat",
    tag: "Agent Nodes",
    summary: "A node's heartbeat: its version, configuration revision and health (only the system itself)",
    description:
      "Every 20 s. The answer names the revision the platform holds, which the node fetches when it differs.",
    auth: "signed",
    body: named("Heartbeat", heartbeatInput),
    success: { status: 200, description: "Recorded", schema: named("HeartbeatAnswer", heartbeatAnswer) },
    problems: [...signedProblems, 404],
  },
  listAgentNodes: {
    method: "GET",
    path: "/v1/agent-nodes",
    tag: "Agent Nodes",
    summary: "Agent Nodes with their version, last heartbeat and configuration against the current ones",
    description: "The operator sees every agency's nodes; an agency its own (403 naming another).",
    auth: "signed",
    query: [agentNodeQuery, pageQuery],
    success: { status: 200, description: "A page of nodes", schema: named("AgentNodePage", page(agentNode)) },
    problems: signedProblems,
  },
});

export type AgentNodeDriftChecks = AllTrue<
  [
    Describes<typeof agentConfigRecord, AgentConfigRecord>,
    Describes<typeof signedAgentConfig, SignedAgentConfigRecord>,
    Describes<typeof agentNode, AgentNode>,
  ]
>;
