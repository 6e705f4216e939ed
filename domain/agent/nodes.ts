import * as z from "zod/mini";
import { agencyCode, isKeyText } from "../identifiers.ts";
import type { Page } from "../registry/model.ts";
import type { AgentConfig } from "./config.ts";

/** A node's own health, as its heartbeat reports it. */
export const NODE_HEALTH = ["ok", "degraded", "failing"] as const;
export type NodeHealth = (typeof NODE_HEALTH)[number];

/** A release number: MAJOR.MINOR.PATCH, optionally -prerelease. */
const RELEASE = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})(-[0-9A-Za-z.-]{1,64})?$/;

/** Body of `POST /v1/systems/{systemId}/heartbeat`: what the node says of itself every 20 s. */
export const heartbeatInput = z.object({
  version: z.string().check(z.regex(RELEASE, "must be a release number, e.g. 0.1.0")),
  /** The configuration revision the node applies; 0 when it has none. */
  configRevision: z.number().check(z.int(), z.minimum(0), z.maximum(1_000_000_000)),
  health: z.enum(NODE_HEALTH),
  startedAt: z.iso.datetime({ offset: true }),
  detail: z.optional(
    z.string().check(z.maxLength(500), z.refine(isKeyText, "must not hold control characters or lone surrogates")),
  ),
});
export type HeartbeatInput = z.infer<typeof heartbeatInput>;

/** Query parameters of `GET /v1/agent-nodes`. */
export const agentNodeQuery = z.object({
  agency: z.optional(agencyCode.check(z.describe("Only this agency's nodes (an agency sees only its own)"))),
});

/** A configuration as the platform keeps it: each change a new revision. */
export interface AgentConfigRecord {
  readonly systemId: string;
  /** 1 for the first configuration, one more for each change. */
  readonly revision: number;
  readonly config: AgentConfig;
  readonly updatedAt: string;
  /** The system (the operator's or the agency's) that set it. */
  readonly updatedBy: string;
}

/** `GET /v1/systems/{systemId}/agent-config`: the configuration, and the same signed by the platform. */
export interface SignedAgentConfigRecord {
  readonly systemId: string;
  readonly revision: number;
  readonly config: AgentConfig;
  readonly updatedAt: string;
  /** Compact JWS (`typ` dscp-agent-config+jwt): the node applies only its `cfg`, once verified. */
  readonly signed: string;
}

/** What the platform knows of one node: its system, its configuration's revision, its last heartbeat. */
export interface AgentNodeState {
  readonly systemId: string;
  readonly agencyCode: string;
  readonly name: string;
  /** The revision the platform holds; absent while none was set. */
  readonly currentConfigRevision?: number;
  /** From the last heartbeat: absent until the node is first seen. */
  readonly version?: string;
  readonly configRevision?: number;
  readonly health?: NodeHealth;
  readonly detail?: string;
  readonly startedAt?: string;
  readonly lastSeenAt?: string;
}

/** A node as the operator's list shows it. */
export interface AgentNode extends AgentNodeState {
  /** Its version is older than the current release (Art. 22.4: nodes are kept up to date). */
  readonly outOfDate: boolean;
  /** It applies an older configuration revision than the platform holds. */
  readonly configOutOfDate: boolean;
}

/** What a heartbeat writes. */
export interface Heartbeat extends HeartbeatInput {
  readonly systemId: string;
  readonly agencyCode: string;
  readonly name: string;
  readonly lastSeenAt: string;
}

/** Where node configurations and heartbeats are kept (the registry table in the platform). */
export interface AgentNodeStore {
  getConfig(systemId: string): Promise<AgentConfigRecord | undefined>;
  /**
   * Stores `record` if the system's stored revision is still `record.revision - 1` (none, for
   * revision 1), and marks it the node's current revision; false when another write came first.
   */
  putConfig(record: AgentConfigRecord, node: { readonly agencyCode: string; readonly name: string }): Promise<boolean>;
  /** Records a heartbeat; returns the revision the platform holds for the node (0 when none). */
  recordHeartbeat(heartbeat: Heartbeat): Promise<number>;
  /** Nodes in system id order: one agency's, or every agency's. */
  listNodes(
    filter: { readonly agency?: string },
    page: { limit: number; cursor?: string },
  ): Promise<Page<AgentNodeState>>;
}

/**
 * Whether release `version` is older than `release`, by MAJOR.MINOR.PATCH, then a prerelease
 * (`0.1.0-rc.1`) older than its release. A version that is no release number is out of date.
 */
export function isOlderRelease(version: string, release: string): boolean {
  const parse = (text: string) => {
    const match = RELEASE.exec(text);
    return match ? { parts: [match[1], match[2], match[3]].map(Number), pre: match[4] } : undefined;
  };
  const a = parse(version);
  const b = parse(release);
  if (!a || !b) return a === undefined;
  for (let index = 0; index < 3; index++) {
    const difference = (a.parts[index] ?? 0) - (b.parts[index] ?? 0);
    if (difference !== 0) return difference < 0;
  }
  if (a.pre === b.pre) return false;
  if (a.pre === undefined) return false;
  if (b.pre === undefined) return true;
  return a.pre < b.pre;
}

/**
 * Whether an `If-None-Match` header names the revision (`"3"`, `W/"3"`, a list, or `*`): the
 * node already holds it, and gets a 304.
 */
export function matchesRevision(ifNoneMatch: string | undefined, revision: number): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === "*" || tag === `"${revision}"`);
}

/** The entity tag of a configuration revision. */
export function revisionTag(revision: number): string {
  return `"${revision}"`;
}
