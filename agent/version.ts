import { AGENT_RELEASE } from "../domain/agent/release.ts";

/** This node's release: the one the platform ships (domain/agent/release.ts), which it compares heartbeats with. */
export const AGENT_VERSION: string = AGENT_RELEASE;
