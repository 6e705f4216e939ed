import * as z from "zod/mini";
import { SHARING_METHODS } from "../domain/catalog/model.ts";
import {
  type AccessRequest,
  accessRequestInput,
  decisionInput,
  mandatoryGrantInput,
  type Permission,
  PURPOSE_CLASSES,
  permissionListQuery,
  revocationInput,
} from "../domain/permissions/model.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { type AllTrue, type Describes, instant, named, page, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/* Access requests, their decisions, mandatory grants and revocations (Art. 4.1, 3.5, 16). */

const termsShape = {
  datasetId: z.string(),
  fields: z.array(z.string()),
  purpose: z.string(),
  purposeClass: z.enum(PURPOSE_CLASSES),
  methods: z.array(z.enum(SHARING_METHODS)),
  validFrom: instant,
  validUntil: instant,
  legalBasis: z.string(),
  consumerSystem: z.string(),
  consumerAgency: z.string(),
  providerAgency: z.string(),
};

export const accessRequest = z.object({
  ...termsShape,
  id: z.string(),
  requestedBy: z.string(),
  status: z.enum(["pending", "approved", "rejected"]),
  createdAt: instant,
  decidedAt: z.optional(instant),
  decidedBy: z.optional(z.string()),
  reason: z.optional(z.string()),
  permissionId: z.optional(z.string()),
});

export const permission = z.object({
  ...termsShape,
  id: z.string(),
  grantType: z.enum(["request", "mandatory"]),
  requestId: z.optional(z.string()),
  grantedBy: z.string(),
  commercial: z.boolean(),
  crossBorder: z.boolean(),
  status: z.enum(["active", "revoked"]),
  createdAt: instant,
  revokedAt: z.optional(instant),
  revokedBy: z.optional(z.string()),
  revokeReason: z.optional(z.string()),
});

export const decision = z.object({ request: accessRequest, permission: z.optional(permission) });

/** Served by the permissions function. */
export const permissionRoutes = routes({
  requestAccess: {
    method: "POST",
    path: "/v1/access-requests",
    tag: "Permissions",
    summary: "Ask for access to a dataset: fields, purpose and its class (Art. 16), methods, validity, legal basis",
    auth: "signed",
    body: named("AccessRequestInput", accessRequestInput),
    success: { status: 201, description: "Pending a decision", schema: named("AccessRequest", accessRequest) },
    problems: [...signedProblems, 404],
  },
  listAccessRequests: {
    method: "GET",
    path: "/v1/access-requests",
    tag: "Permissions",
    summary: "Access requests of the caller's agency (as consumer or provider), or all (operator, supervisor)",
    auth: "signed",
    query: [permissionListQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of access requests",
      schema: named("AccessRequestPage", page(accessRequest)),
    },
    problems: signedProblems,
  },
  decideAccessRequest: {
    method: "POST",
    path: "/v1/access-requests/{requestId}/decision",
    tag: "Permissions",
    summary: "Approve (possibly narrowing the fields) or reject, with a reason (provider or operator)",
    auth: "signed",
    body: named("Decision", decisionInput),
    success: { status: 200, description: "Decided", schema: named("DecisionResult", decision) },
    problems: [...signedProblems, 404, 409],
  },
  grantMandatory: {
    method: "POST",
    path: "/v1/permissions",
    tag: "Permissions",
    summary: "Grant a dataset on a mandatory list without a request (operator, Art. 3.5)",
    auth: "signed",
    body: named("MandatoryGrant", mandatoryGrantInput),
    success: { status: 201, description: "Granted", schema: named("Permission", permission) },
    problems: [...signedProblems, 404, 422],
  },
  listPermissions: {
    method: "GET",
    path: "/v1/permissions",
    tag: "Permissions",
    summary: "Permissions of the caller's agency (as consumer or provider), or all (operator, supervisor)",
    auth: "signed",
    query: [permissionListQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of permissions",
      schema: named("PermissionPage", page(permission)),
    },
    problems: signedProblems,
  },
  revokePermission: {
    method: "DELETE",
    path: "/v1/permissions/{permissionId}",
    tag: "Permissions",
    summary: "Revoke a permission, with a reason (provider or operator)",
    auth: "signed",
    body: named("Revocation", revocationInput),
    success: { status: 200, description: "Revoked", schema: named("Permission", permission) },
    problems: [...signedProblems, 404, 409],
  },
});

export type PermissionDriftChecks = AllTrue<
  [Describes<typeof accessRequest, AccessRequest>, Describes<typeof permission, Permission>]
>;
