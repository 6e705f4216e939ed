import * as z from "zod/mini";
import { SHARING_METHODS, type SharingMethod } from "../catalog/model.ts";

/** Why data is used (Art. 16): state management and public services are free; commercial use is apart. */
export const PURPOSE_CLASSES = ["state-management", "public-service", "commercial"] as const;
export type PurposeClass = (typeof PURPOSE_CLASSES)[number];

const isoInstant = z.iso.datetime({ offset: true });
const fieldName = z.string().check(z.regex(/^[a-z][A-Za-z0-9]{0,63}$/, "must be a field name"));

/** What a consumer asks for, and what a grant gives. */
const accessTerms = {
  datasetId: z.string().check(z.minLength(3), z.maxLength(200)),
  fields: z.array(fieldName).check(z.minLength(1), z.maxLength(500)),
  purpose: z
    .string()
    .check(z.minLength(10, "must say what the data is for, in at least 10 characters"), z.maxLength(1000)),
  purposeClass: z.enum(PURPOSE_CLASSES),
  methods: z.array(z.enum(SHARING_METHODS)).check(z.minLength(1), z.maxLength(4)),
  validFrom: z.optional(isoInstant),
  validUntil: isoInstant,
  legalBasis: z.string().check(z.minLength(3), z.maxLength(1000)),
};

export const accessRequestInput = z.object({
  ...accessTerms,
  /** The requesting agency's system that will use the data; defaults to the caller. */
  consumerSystem: z.optional(z.string().check(z.minLength(3))),
});
export type AccessRequestInput = z.infer<typeof accessRequestInput>;

export const decisionInput = z.object({
  decision: z.enum(["approve", "reject"]),
  reason: z.string().check(z.minLength(3), z.maxLength(1000)),
  /** An approval may narrow the fields asked for, never widen them. */
  fields: z.optional(z.array(fieldName).check(z.minLength(1))),
});

export const mandatoryGrantInput = z.object({ ...accessTerms, consumerSystem: z.string().check(z.minLength(3)) });

export const revocationInput = z.object({ reason: z.string().check(z.minLength(3), z.maxLength(1000)) });

/** Query parameters of the access-request and permission listings. */
export const permissionListQuery = z.object({
  view: z.optional(
    z
      .enum(["consumer", "provider", "all"])
      .check(
        z.describe("Whose: the caller's agency as consumer (default), as provider, or (operator, supervisor) all"),
      ),
  ),
  datasetId: z.optional(z.string().check(z.maxLength(200))),
  consumerSystem: z.optional(z.string().check(z.maxLength(200))),
  status: z.optional(z.enum(["pending", "approved", "rejected", "active", "revoked"])),
});
export type PermissionListQuery = z.infer<typeof permissionListQuery>;

export interface AccessTerms {
  readonly datasetId: string;
  readonly fields: readonly string[];
  readonly purpose: string;
  readonly purposeClass: PurposeClass;
  readonly methods: readonly SharingMethod[];
  readonly validFrom: string;
  readonly validUntil: string;
  readonly legalBasis: string;
}

export interface Parties {
  readonly consumerSystem: string;
  readonly consumerAgency: string;
  readonly providerAgency: string;
}

export interface AccessRequest extends AccessTerms, Parties {
  readonly id: string;
  readonly requestedBy: string;
  readonly status: "pending" | "approved" | "rejected";
  readonly createdAt: string;
  readonly decidedAt?: string;
  readonly decidedBy?: string;
  readonly reason?: string;
  readonly permissionId?: string;
}

export interface Permission extends AccessTerms, Parties {
  readonly id: string;
  /** `request`: approved by the provider or operator; `mandatory`: granted by the operator (Art. 3.5). */
  readonly grantType: "request" | "mandatory";
  readonly requestId?: string;
  readonly grantedBy: string;
  /** Commercial use is recorded as such (Art. 16). */
  readonly commercial: boolean;
  readonly crossBorder: boolean;
  readonly status: "active" | "revoked";
  readonly createdAt: string;
  readonly revokedAt?: string;
  readonly revokedBy?: string;
  readonly revokeReason?: string;
}

/** Whose permissions a listing shows. */
export type PermissionScope =
  | { readonly kind: "all" }
  | { readonly kind: "consumer-agency"; readonly agency: string }
  | { readonly kind: "provider-agency"; readonly agency: string };

export interface PermissionListFilter {
  readonly datasetId?: string;
  readonly consumerSystem?: string;
  readonly status?: string;
}

export interface PermissionStore {
  createRequest(request: AccessRequest): Promise<void>;
  getRequest(id: string): Promise<AccessRequest | undefined>;
  /** Records a decision if the request is still pending; false if someone decided first. */
  decideRequest(decided: AccessRequest): Promise<boolean>;
  listRequests(
    scope: PermissionScope,
    filter: PermissionListFilter,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: AccessRequest[]; nextCursor?: string }>;
  createPermission(permission: Permission): Promise<void>;
  getPermission(id: string): Promise<Permission | undefined>;
  /** Marks a permission revoked if it is active; returns the result, or undefined when absent. */
  revokePermission(id: string, by: string, reason: string, at: string): Promise<Permission | undefined>;
  listPermissions(
    scope: PermissionScope,
    filter: PermissionListFilter,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: Permission[]; nextCursor?: string }>;
  /** Every permission of one consumer system on one dataset (active or not): what use-time checks read. */
  permissionsOf(consumerSystem: string, datasetId: string): Promise<Permission[]>;
}
