/**
 * The current Agent Node release: what the platform compares each node's heartbeat against to
 * flag it out of date (Art. 22.4: the National Data Center keeps nodes up to date).
 */
export const AGENT_RELEASE = "0.1.0";
