import type * as z from "zod/mini";
import { catalogQuery, datasetPatch, newDatasetInput } from "../domain/catalog/model.ts";
import { queryInput, recordQuery } from "../domain/exchange/model.ts";
import { logQuery } from "../domain/exchange-log/model.ts";
import {
  accessRequestInput,
  decisionInput,
  mandatoryGrantInput,
  permissionListQuery,
  revocationInput,
} from "../domain/permissions/model.ts";
import { newAgencyInput, newKeyInput, newSystemInput } from "../domain/registry/model.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import * as resource from "./resources.ts";

/** One method of the API, described with the schemas its handler validates with. */
export interface Operation {
  readonly method: "GET" | "POST" | "PATCH" | "DELETE";
  /** API Gateway resource path, `{name}` for path parameters. */
  readonly path: string;
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  /** Needs a signed request token; public routes do not. */
  readonly signed: boolean;
  /** Components the request body is validated against, by name. */
  readonly body?: { readonly name: string; readonly schema: z.ZodMiniType };
  /** Query parameter schemas (each an object whose properties are the parameters). */
  readonly query?: readonly z.ZodMiniObject[];
  readonly success: { readonly status: number; readonly description: string; readonly schema: Schema };
  /** Problem statuses this operation may answer with, beyond 500. */
  readonly problems: readonly number[];
}

/** A named response component or an anonymous schema. */
export type Schema = { readonly name: string; readonly schema: z.ZodMiniType } | { readonly inline: object };

const named = (name: string, schema: z.ZodMiniType) => ({ name, schema });
const signedProblems = [400, 401, 403] as const;

/**
 * Every method the CDK app wires to the API, in the order the README presents them. The
 * infrastructure tests check this list against the synthesized template, method for method.
 */
export const OPERATIONS: readonly Operation[] = [
  {
    method: "GET",
    path: "/v1/health",
    operationId: "getHealth",
    tag: "Platform",
    summary: "Version, stage, time and whether the data tier answers",
    signed: false,
    success: {
      status: 200,
      description: "Healthy (503 with the same body when degraded)",
      schema: named("Health", resource.health),
    },
    problems: [],
  },
  {
    method: "GET",
    path: "/v1/openapi.json",
    operationId: "getOpenApi",
    tag: "Platform",
    summary: "This document",
    signed: false,
    success: { status: 200, description: "The OpenAPI 3.1 document", schema: { inline: { type: "object" } } },
    problems: [],
  },
  {
    method: "GET",
    path: "/v1/platform/keys",
    operationId: "getPlatformKeys",
    tag: "Platform",
    summary: "The key set providers verify the platform's calls with (ES256)",
    signed: false,
    success: { status: 200, description: "JSON Web Key Set", schema: named("KeySet", resource.keySet) },
    problems: [],
  },
  {
    method: "POST",
    path: "/v1/agencies",
    operationId: "registerAgency",
    tag: "Registry",
    summary: "Register an agency (operator)",
    signed: true,
    body: named("NewAgency", newAgencyInput),
    success: { status: 201, description: "Registered", schema: named("Agency", resource.agency) },
    problems: [...signedProblems, 409],
  },
  {
    method: "GET",
    path: "/v1/agencies",
    operationId: "listAgencies",
    tag: "Registry",
    summary: "List agencies",
    signed: true,
    query: [pageQuery],
    success: {
      status: 200,
      description: "A page of agencies",
      schema: named("AgencyPage", resource.page(resource.agency)),
    },
    problems: signedProblems,
  },
  {
    method: "POST",
    path: "/v1/agencies/{agencyId}/systems",
    operationId: "registerSystem",
    tag: "Registry",
    summary: "Register a system (Agent Node) of an agency, with its first keys",
    description: "Its own agency or the operator; roles only by the operator.",
    signed: true,
    body: named("NewSystem", newSystemInput),
    success: { status: 201, description: "Registered", schema: named("System", resource.system) },
    problems: [...signedProblems, 404, 409],
  },
  {
    method: "POST",
    path: "/v1/systems/{systemId}/keys",
    operationId: "addKey",
    tag: "Registry",
    summary: "Add (rotate in) a public key of a system",
    signed: true,
    body: named("NewKey", newKeyInput),
    success: { status: 201, description: "Added", schema: named("Key", resource.key) },
    problems: [...signedProblems, 404, 409],
  },
  {
    method: "DELETE",
    path: "/v1/systems/{systemId}/keys/{kid}",
    operationId: "revokeKey",
    tag: "Registry",
    summary: "Revoke a key: tokens it signs are refused from now on",
    signed: true,
    success: { status: 200, description: "Revoked", schema: named("Key", resource.key) },
    problems: [...signedProblems, 404],
  },
  {
    method: "POST",
    path: "/v1/datasets",
    operationId: "publishDataset",
    tag: "Catalog",
    summary: "Publish a dataset to the catalog (Art. 4.5); `secret` data is refused (Art. 9.3)",
    signed: true,
    body: named("NewDataset", newDatasetInput),
    success: { status: 201, description: "Published", schema: named("Dataset", resource.dataset) },
    problems: [...signedProblems, 404, 409, 422],
  },
  {
    method: "PATCH",
    path: "/v1/datasets/{datasetId}",
    operationId: "amendDataset",
    tag: "Catalog",
    summary: "Amend a dataset's description (never its identity, provider or structure)",
    signed: true,
    body: named("DatasetPatch", datasetPatch),
    success: { status: 200, description: "Amended", schema: named("Dataset", resource.dataset) },
    problems: [...signedProblems, 404, 409, 422],
  },
  {
    method: "GET",
    path: "/v1/catalog/datasets",
    operationId: "listCatalog",
    tag: "Catalog",
    summary: "The public catalog of shared datasets",
    signed: false,
    query: [catalogQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of datasets",
      schema: named("PublicDatasetPage", resource.page(resource.publicDataset)),
    },
    problems: [400],
  },
  {
    method: "GET",
    path: "/v1/catalog/datasets/{datasetId}",
    operationId: "getCatalogDataset",
    tag: "Catalog",
    summary: "One dataset of the public catalog",
    signed: false,
    success: { status: 200, description: "The dataset", schema: named("PublicDataset", resource.publicDataset) },
    problems: [404],
  },
  {
    method: "POST",
    path: "/v1/access-requests",
    operationId: "requestAccess",
    tag: "Permissions",
    summary: "Ask for access to a dataset: fields, purpose and its class (Art. 16), methods, validity, legal basis",
    signed: true,
    body: named("AccessRequestInput", accessRequestInput),
    success: { status: 201, description: "Pending a decision", schema: named("AccessRequest", resource.accessRequest) },
    problems: [...signedProblems, 404],
  },
  {
    method: "GET",
    path: "/v1/access-requests",
    operationId: "listAccessRequests",
    tag: "Permissions",
    summary: "Access requests of the caller's agency (as consumer or provider), or all (operator, supervisor)",
    signed: true,
    query: [permissionListQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of access requests",
      schema: named("AccessRequestPage", resource.page(resource.accessRequest)),
    },
    problems: signedProblems,
  },
  {
    method: "POST",
    path: "/v1/access-requests/{requestId}/decision",
    operationId: "decideAccessRequest",
    tag: "Permissions",
    summary: "Approve (possibly narrowing the fields) or reject, with a reason (provider or operator)",
    signed: true,
    body: named("Decision", decisionInput),
    success: { status: 200, description: "Decided", schema: named("DecisionResult", resource.decision) },
    problems: [...signedProblems, 404, 409],
  },
  {
    method: "POST",
    path: "/v1/permissions",
    operationId: "grantMandatory",
    tag: "Permissions",
    summary: "Grant a dataset on a mandatory list without a request (operator, Art. 3.5)",
    signed: true,
    body: named("MandatoryGrant", mandatoryGrantInput),
    success: { status: 201, description: "Granted", schema: named("Permission", resource.permission) },
    problems: [...signedProblems, 404, 422],
  },
  {
    method: "GET",
    path: "/v1/permissions",
    operationId: "listPermissions",
    tag: "Permissions",
    summary: "Permissions of the caller's agency (as consumer or provider), or all (operator, supervisor)",
    signed: true,
    query: [permissionListQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of permissions",
      schema: named("PermissionPage", resource.page(resource.permission)),
    },
    problems: signedProblems,
  },
  {
    method: "DELETE",
    path: "/v1/permissions/{permissionId}",
    operationId: "revokePermission",
    tag: "Permissions",
    summary: "Revoke a permission, with a reason (provider or operator)",
    signed: true,
    body: named("Revocation", revocationInput),
    success: { status: 200, description: "Revoked", schema: named("Permission", resource.permission) },
    problems: [...signedProblems, 404, 409],
  },
  {
    method: "GET",
    path: "/v1/exchange/{datasetId}/records/{key}",
    operationId: "getRecord",
    tag: "Exchange",
    summary: "One record by its data key, permitted fields only (Art. 7.2a)",
    signed: true,
    query: [recordQuery],
    success: { status: 200, description: "The record", schema: named("ExchangeRecord", resource.exchangeRecord) },
    problems: [...signedProblems, 404, 502, 503, 504],
  },
  {
    method: "POST",
    path: "/v1/exchange/{datasetId}/query",
    operationId: "queryRecords",
    tag: "Exchange",
    summary: "Records matching equality filters on permitted fields, a page at a time (Art. 7.2a)",
    signed: true,
    body: named("Query", queryInput),
    success: { status: 200, description: "A page of records", schema: named("ExchangePage", resource.exchangePage) },
    problems: [...signedProblems, 404, 502, 503, 504],
  },
  {
    method: "GET",
    path: "/v1/logs",
    operationId: "listLogEntries",
    tag: "Exchange log",
    summary: "Exchange log entries (Art. 13): a consumer its calls, a provider its datasets', the supervisor all",
    signed: true,
    query: [logQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of entries",
      schema: named("LogEntryPage", resource.page(resource.logEntry)),
    },
    problems: signedProblems,
  },
  {
    method: "GET",
    path: "/v1/logs/verify",
    operationId: "verifyLog",
    tag: "Exchange log",
    summary: "Verify every hash chain of the log (operator, supervisor)",
    signed: true,
    success: {
      status: 200,
      description: "The verdict, shard by shard",
      schema: named("Verification", resource.verification),
    },
    problems: [401, 403],
  },
];
