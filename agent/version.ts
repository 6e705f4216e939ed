/** This node's release; the platform compares it with its current release (domain/agent/release.ts). */
export const AGENT_VERSION = "0.1.0";
