import * as z from "zod/mini";
import {
  AGENCY_LEVELS,
  type Agency,
  CAPABILITIES,
  ENDPOINT_STATUSES,
  endpointApprovalInput,
  type KeyRecord,
  newAgencyInput,
  newKeyInput,
  newSystemInput,
  publicJwk,
  ROLES,
  type SystemRecord,
  systemListQuery,
  systemPatch,
} from "../domain/registry/model.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { type AllTrue, type Describes, instant, named, page, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/* The registry of agencies, their systems (Agent Nodes) and the systems' keys. */

export const agency = z.object({
  code: z.string(),
  name: z.string(),
  nameEn: z.optional(z.string()),
  level: z.enum(AGENCY_LEVELS),
  parentCode: z.optional(z.string()),
  country: z.string(),
  createdAt: instant,
});

export const system = z.object({
  id: z.string(),
  agencyCode: z.string(),
  name: z.string(),
  capabilities: z.array(z.enum(CAPABILITIES)),
  roles: z.array(z.enum(ROLES)),
  endpoint: z.optional(z.string()),
  endpointStatus: z.optional(
    z.enum(ENDPOINT_STATUSES).check(z.describe("The platform calls the endpoint only once the operator approved it")),
  ),
  endpointApprovedBy: z.optional(z.string()),
  endpointApprovedAt: z.optional(instant),
  status: z.enum(["active", "suspended"]),
  createdAt: instant,
});

export const key = z.object({
  systemId: z.string(),
  kid: z.string(),
  alg: z.enum(["EdDSA", "ES256"]),
  jwk: publicJwk,
  status: z.enum(["active", "revoked"]),
  createdAt: instant,
  revokedAt: z.optional(instant),
});

/** Served by the registry function. */
export const registryRoutes = routes({
  registerAgency: {
    method: "POST",
    path: "/v1/agencies",
    tag: "Registry",
    summary: "Register an agency (operator)",
    auth: "signed",
    body: named("NewAgency", newAgencyInput),
    success: { status: 201, description: "Registered", schema: named("Agency", agency) },
    problems: [...signedProblems, 409],
  },
  listAgencies: {
    method: "GET",
    path: "/v1/agencies",
    tag: "Registry",
    summary: "List agencies",
    auth: "signed",
    query: [pageQuery],
    success: {
      status: 200,
      description: "A page of agencies",
      schema: named("AgencyPage", page(agency)),
    },
    problems: signedProblems,
  },
  registerSystem: {
    method: "POST",
    path: "/v1/agencies/{agencyId}/systems",
    tag: "Registry",
    summary: "Register a system (Agent Node) of an agency, with its first keys",
    description: "Its own agency or the operator; roles only by the operator.",
    auth: "signed",
    body: named("NewSystem", newSystemInput),
    success: { status: 201, description: "Registered", schema: named("System", system) },
    problems: [...signedProblems, 404, 409],
  },
  listSystems: {
    method: "GET",
    path: "/v1/systems",
    tag: "Registry",
    summary: "List systems, by agency and endpoint status: endpointStatus=pending lists what awaits approval",
    description:
      "The operator sees every agency's systems; any other caller its own agency's only (403 naming another). " +
      "With endpointStatus, systems are ordered by id; without it and without agency, by endpoint status (none without an endpoint), then id.",
    auth: "signed",
    query: [systemListQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of systems",
      schema: named("SystemPage", page(system)),
    },
    problems: signedProblems,
  },
  addKey: {
    method: "POST",
    path: "/v1/systems/{systemId}/keys",
    tag: "Registry",
    summary: "Add (rotate in) a public key of a system",
    auth: "signed",
    body: named("NewKey", newKeyInput),
    success: { status: 201, description: "Added", schema: named("Key", key) },
    problems: [...signedProblems, 404, 409],
  },
  changeEndpoint: {
    method: "PATCH",
    path: "/v1/systems/{systemId}",
    tag: "Registry",
    summary: "Move a system to a new endpoint, pending the operator's approval again",
    description: "Its own agency or the operator; a system holding a platform role, only itself or the operator.",
    auth: "signed",
    body: named("SystemPatch", systemPatch),
    success: { status: 200, description: "Changed", schema: named("System", system) },
    problems: [...signedProblems, 404],
  },
  approveEndpoint: {
    method: "POST",
    path: "/v1/systems/{systemId}/endpoint/approval",
    tag: "Registry",
    summary: "Approve a system's endpoint (operator): only then does the platform call it",
    description:
      "A system registered with an endpoint starts with endpointStatus pending: exchanges and pushes refuse it " +
      "until the operator approves the endpoint it reviewed, named in the body (409 if the system's endpoint is another).",
    auth: "signed",
    body: named("EndpointApproval", endpointApprovalInput),
    success: { status: 200, description: "Approved", schema: named("System", system) },
    problems: [...signedProblems, 404, 409],
  },
  revokeKey: {
    method: "DELETE",
    path: "/v1/systems/{systemId}/keys/{kid}",
    tag: "Registry",
    summary: "Revoke a key: tokens it signs are refused from now on",
    auth: "signed",
    success: { status: 200, description: "Revoked", schema: named("Key", key) },
    problems: [...signedProblems, 404],
  },
});

export type RegistryDriftChecks = AllTrue<
  [Describes<typeof agency, Agency>, Describes<typeof system, SystemRecord>, Describes<typeof key, KeyRecord>]
>;
