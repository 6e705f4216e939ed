import * as z from "zod/mini";
import { systemId as boundedSystemId } from "../identifiers.ts";

/** An agency's place in the administration; `foreign` partners come from other countries (Art. 11). */
export const AGENCY_LEVELS = ["central", "provincial", "commune", "foreign"] as const;
export type AgencyLevel = (typeof AGENCY_LEVELS)[number];

/** What a system does in exchanges. */
export const CAPABILITIES = ["provider", "consumer"] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Platform-wide roles: the National Data Center operates, the Ministry of Public Security supervises. */
export const ROLES = ["platform-admin", "supervisor"] as const;
export type Role = (typeof ROLES)[number];

const agencyCode = z
  .string()
  .check(z.regex(/^[A-Z][A-Z0-9]{1,15}$/, "must be 2-16 upper-case letters or digits, starting with a letter"));
const systemId = boundedSystemId;
const kid = z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 letters, digits, '.', '_' or '-'"));
const base64url = (length: number) =>
  z.string().check(z.regex(new RegExp(`^[A-Za-z0-9_-]{${length}}$`), `must be ${length} base64url characters`));

/** A public key as a JWK: Ed25519 (`OKP`) or P-256 (`EC`). Private members are refused. */
export const publicJwk = z.union([
  z.strictObject({
    kty: z.literal("OKP"),
    crv: z.literal("Ed25519"),
    x: base64url(43),
    kid: z.optional(kid),
    alg: z.optional(z.literal("EdDSA")),
    use: z.optional(z.literal("sig")),
  }),
  z.strictObject({
    kty: z.literal("EC"),
    crv: z.literal("P-256"),
    x: base64url(43),
    y: base64url(43),
    kid: z.optional(kid),
    alg: z.optional(z.literal("ES256")),
    use: z.optional(z.literal("sig")),
  }),
]);
export type PublicJwk = z.infer<typeof publicJwk>;

export const newKeyInput = z.object({ kid, jwk: publicJwk });
export type NewKeyInput = z.infer<typeof newKeyInput>;

export const newAgencyInput = z.object({
  code: agencyCode,
  name: z.string().check(z.minLength(2), z.maxLength(200)),
  nameEn: z.optional(z.string().check(z.minLength(2), z.maxLength(200))),
  level: z.enum(AGENCY_LEVELS),
  parentCode: z.optional(agencyCode),
  country: z._default(z.string().check(z.regex(/^[A-Z]{2}$/, "must be an ISO 3166-1 alpha-2 code")), "VN"),
});
export type NewAgencyInput = z.infer<typeof newAgencyInput>;

/** Longest endpoint URL taken: every field of a system is bounded, so its item always fits DynamoDB. */
export const MAX_ENDPOINT_LENGTH = 2048;
/** A system's endpoint: which ones the platform calls is decided by the endpoint policy. */
const endpointUrl = z.url({ protocol: /^https?$/ }).check(z.maxLength(MAX_ENDPOINT_LENGTH));

export const newSystemInput = z.object({
  id: systemId,
  name: z.string().check(z.minLength(2), z.maxLength(200)),
  capabilities: z.array(z.enum(CAPABILITIES)).check(z.minLength(1), z.maxLength(2)),
  endpoint: z.optional(endpointUrl),
  roles: z._default(z.array(z.enum(ROLES)).check(z.maxLength(ROLES.length)), []),
  keys: z._default(z.array(newKeyInput).check(z.maxLength(5)), []),
});
export type NewSystemInput = z.infer<typeof newSystemInput>;

export interface Agency {
  readonly code: string;
  readonly name: string;
  readonly nameEn?: string;
  readonly level: AgencyLevel;
  readonly parentCode?: string;
  readonly country: string;
  readonly createdAt: string;
}

export interface SystemRecord {
  readonly id: string;
  readonly agencyCode: string;
  readonly name: string;
  readonly capabilities: readonly Capability[];
  readonly roles: readonly Role[];
  readonly endpoint?: string;
  /**
   * Whether the operator approved `endpoint`: the platform calls it (exchanges, pushes) only once
   * approved. A system registered with an endpoint starts `pending`.
   */
  readonly endpointStatus?: EndpointStatus;
  /** Who approved the endpoint (the operator's system), and when. */
  readonly endpointApprovedBy?: string;
  readonly endpointApprovedAt?: string;
  readonly status: "active" | "suspended";
  readonly createdAt: string;
}

export const ENDPOINT_STATUSES = ["pending", "approved"] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];

/** Query parameters of `GET /v1/systems`, as they arrive (strings). */
export const systemListQuery = z.object({
  agency: z.optional(
    agencyCode.check(z.describe("Only this agency's systems (an agency's systems see only their own)")),
  ),
  endpointStatus: z.optional(
    z
      .enum(ENDPOINT_STATUSES)
      .check(z.describe("Only systems whose endpoint is so: `pending` lists what awaits approval")),
  ),
});

/** Which systems a listing names: one agency's or every agency's, and by endpoint status. */
export interface SystemFilter {
  readonly agency?: string;
  readonly endpointStatus?: EndpointStatus;
}

/** Body of `PATCH /v1/systems/{systemId}`: a new endpoint, pending until the operator approves it. */
export const systemPatch = z.strictObject({ endpoint: endpointUrl });

/** Body of `POST /v1/systems/{systemId}/endpoint/approval`: the endpoint the operator reviewed. */
export const endpointApprovalInput = z.object({
  endpoint: z.string().check(z.minLength(1), z.maxLength(MAX_ENDPOINT_LENGTH)),
});

export interface KeyRecord {
  readonly systemId: string;
  readonly kid: string;
  readonly alg: "EdDSA" | "ES256";
  readonly jwk: PublicJwk;
  readonly status: "active" | "revoked";
  readonly createdAt: string;
  readonly revokedAt?: string;
}

/** The algorithm a registered public key signs with. */
export function algorithmOf(jwk: PublicJwk): KeyRecord["alg"] {
  return jwk.kty === "OKP" ? "EdDSA" : "ES256";
}

/** An authenticated caller, as the authoriser hands it to handlers. */
export interface Caller {
  readonly systemId: string;
  readonly agencyCode: string;
  readonly roles: readonly Role[];
  readonly capabilities: readonly Capability[];
  readonly kid: string;
  /** The end user on whose behalf the system calls, as its request token names them (`usr`). */
  readonly endUser?: string;
  /** The case the call is made for, as its request token names it (`case`). */
  readonly caseRef?: string;
}

/** A page of a listing and the cursor of the next one. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

/** Where the registry lives; DynamoDB in the platform, anything in tests. */
export interface RegistryStore {
  /** Throws ConflictError when the code is taken. */
  createAgency(agency: Agency): Promise<void>;
  getAgency(code: string): Promise<Agency | undefined>;
  listAgencies(options: { limit: number; cursor?: string }): Promise<Page<Agency>>;
  /** Creates a system with its first keys; throws ConflictError when the id is taken. */
  createSystem(system: SystemRecord, keys: readonly KeyRecord[]): Promise<void>;
  /** A system with all its keys, in one read: what authentication needs. */
  getSystem(id: string): Promise<{ system: SystemRecord; keys: KeyRecord[] } | undefined>;
  /**
   * A page of systems: one agency's when `filter.agency` is set, else every agency's; only those
   * whose endpoint has `filter.endpointStatus` when it is set. Ordered by system id within a status.
   */
  listSystems(filter: SystemFilter, page: { limit: number; cursor?: string }): Promise<Page<SystemRecord>>;
  /** Throws ConflictError when the kid is taken for that system. */
  addKey(key: KeyRecord): Promise<void>;
  /**
   * Marks the system's endpoint approved if it is still `endpoint`; returns the system, or
   * undefined when there is no such system or its endpoint is another.
   */
  approveEndpoint(
    systemId: string,
    endpoint: string,
    approval: { approvedBy: string; approvedAt: string },
  ): Promise<SystemRecord | undefined>;
  /** Replaces a system's endpoint, pending approval again; returns the system, or undefined when there is none. */
  changeEndpoint(systemId: string, endpoint: string): Promise<SystemRecord | undefined>;
  /** Marks a key revoked; returns it, or undefined when there is no such key. */
  revokeKey(systemId: string, kid: string, at: string): Promise<KeyRecord | undefined>;
}
