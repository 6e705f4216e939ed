import { randomUUID, sign } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, type JWTVerifyGetKey } from "jose";
import { PlatformTokenError } from "../identity/errors.ts";
import { jwsSigningInput } from "../identity/es256.ts";
import { CERTIFICATE_HEADER, type EnvironmentKeys } from "../identity/key-certificate.ts";
import { verifyPlatformToken } from "../identity/platform-token.ts";
import { type AgentConfig, agentConfig } from "./config.ts";

/** `typ` of a signed Agent Node configuration: never mistaken for a platform call's token. */
export const AGENT_CONFIG_TYPE = "dscp-agent-config+jwt";

/** Longest a signed configuration is valid (seconds): `exp` is at most `iat` + this. */
export const AGENT_CONFIG_SECONDS = 3600;

/**
 * Shortest it is valid (seconds). A configuration is signed by the execution environment's key,
 * and a token may not outlive that key's certificate (at most an hour, renewed 50 minutes in):
 * `exp` is the certificate's expiry, capped at {@link AGENT_CONFIG_SECONDS}, so signing never
 * costs a new certification of its own.
 */
export const MIN_AGENT_CONFIG_SECONDS = 600;

/** What a signed configuration states. */
export interface AgentConfigClaims {
  /** The platform (its audience). */
  readonly iss: string;
  /** The node's system: `aud` and `sub`. */
  readonly aud: string;
  readonly sub: string;
  /** The configuration's revision (1, 2, …). */
  readonly rev: number;
  readonly cfg: AgentConfig;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

/**
 * Signs a node's configuration exactly as the platform signs its calls to providers: ES256 with
 * this execution environment's key, whose certificate by the platform key rides in the header
 * (`dscp_cert`), so `verifyPlatformToken` verifies it with nothing but the published key set.
 */
export async function signAgentConfig(
  keys: EnvironmentKeys,
  input: {
    readonly issuer: string;
    readonly systemId: string;
    readonly revision: number;
    readonly config: AgentConfig;
    readonly now?: Date;
  },
): Promise<string> {
  const issuedAt = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const key = await keys.keyUntil(issuedAt + MIN_AGENT_CONFIG_SECONDS);
  const header = { alg: "ES256", kid: key.kid, typ: AGENT_CONFIG_TYPE, [CERTIFICATE_HEADER]: key.certificate };
  const claims: AgentConfigClaims = {
    iss: input.issuer,
    aud: input.systemId,
    sub: input.systemId,
    rev: input.revision,
    cfg: input.config,
    iat: issuedAt,
    exp: Math.min(issuedAt + AGENT_CONFIG_SECONDS, key.expires),
    jti: randomUUID(),
  };
  const signingInput = jwsSigningInput(header, claims);
  const signature = sign("sha256", Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${signature.toString("base64url")}`;
}

/**
 * Verifies a signed configuration for `systemId` with the platform's published key set only
 * (`GET /v1/platform/keys`): the platform's signature (through its certified environment key),
 * the type, the system as audience and subject, validity now, a positive revision and a
 * configuration that parses. Throws {@link PlatformTokenError} saying why not. `issuer`, when
 * given, must be the platform's identity in `iss`.
 */
export async function verifyAgentConfig(
  signed: string,
  keySet: JWTVerifyGetKey,
  systemId: string,
  options: { readonly issuer?: string; readonly now?: Date } = {},
): Promise<{ readonly revision: number; readonly config: AgentConfig; readonly issuedAt: number }> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverifiedIssuer: unknown;
  try {
    header = decodeProtectedHeader(signed);
    unverifiedIssuer = decodeJwt(signed).iss;
  } catch (error) {
    throw new PlatformTokenError("the signed configuration is not a compact JWS", { cause: error });
  }
  if (header.typ !== AGENT_CONFIG_TYPE) throw new PlatformTokenError(`the token is not of type ${AGENT_CONFIG_TYPE}`);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await verifyPlatformToken(signed, keySet, {
      issuer: options.issuer ?? String(unverifiedIssuer),
      audience: systemId,
      requiredClaims: ["iat", "rev", "cfg", "sub"],
      ...(options.now ? { now: options.now } : {}),
    }));
  } catch (error) {
    if (error instanceof PlatformTokenError) throw error;
    throw new PlatformTokenError(`the signed configuration does not verify: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (payload.sub !== systemId) throw new PlatformTokenError(`the configuration is not for ${systemId}`);
  const revision = payload.rev;
  if (typeof revision !== "number" || !Number.isSafeInteger(revision) || revision < 1) {
    throw new PlatformTokenError("rev must be a positive integer");
  }
  const parsed = agentConfig.safeParse(payload.cfg);
  if (!parsed.success) throw new PlatformTokenError("cfg is not an Agent Node configuration", { cause: parsed.error });
  return { revision, config: parsed.data, issuedAt: Number(payload.iat) };
}
