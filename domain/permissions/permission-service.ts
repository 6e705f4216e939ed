import { randomUUID } from "node:crypto";
import type { CatalogStore, Dataset } from "../catalog/model.ts";
import { isOverseer, requireAdmin, requireAgencyOrAdmin } from "../identity/authorization.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../problem.ts";
import type { Caller, RegistryStore } from "../registry/model.ts";
import { parseInput } from "../validation.ts";
import { AccessRefusedError } from "./errors.ts";
import {
  type AccessRequest,
  type AccessTerms,
  accessRequestInput,
  decisionInput,
  mandatoryGrantInput,
  type Parties,
  type Permission,
  type PermissionListFilter,
  type PermissionScope,
  type PermissionStore,
  revocationInput,
} from "./model.ts";
import { isForeign } from "./use-check.ts";

type Page = { limit: number; cursor?: string };

/**
 * Permissions bind a consumer system to a dataset's fields, for a purpose, by given methods,
 * within a validity window, on a legal basis (Art. 4.1, 4.6, 10.3, 16). They come from an
 * access request the provider (or the operator) approves, or, for datasets on a mandatory
 * list, straight from the operator (Art. 3.5).
 */
export class PermissionService {
  constructor(
    private readonly permissions: PermissionStore,
    private readonly catalog: CatalogStore,
    private readonly registry: RegistryStore,
    private readonly now: () => Date = () => new Date(),
    private readonly newId: () => string = randomUUID,
  ) {}

  /** A consumer agency asks for access for one of its systems. */
  async request(caller: Caller, input: unknown): Promise<AccessRequest> {
    const parsed = parseInput(accessRequestInput, input, "access request");
    const consumerSystem = parsed.consumerSystem ?? caller.systemId;
    // Before any lookup, so outsiders learn nothing about other agencies' systems or datasets.
    requireAgencyOrAdmin(caller, consumerSystem.split(".")[0] ?? "", `request access for ${consumerSystem}`);
    const { terms, parties } = await this.check(parsed, consumerSystem);
    const request: AccessRequest = {
      id: `REQ-${this.newId()}`,
      ...terms,
      ...parties,
      requestedBy: caller.systemId,
      status: "pending",
      createdAt: this.now().toISOString(),
    };
    await this.permissions.createRequest(request);
    return request;
  }

  /** The provider agency (or the operator) approves or rejects a pending request, with a reason. */
  async decide(
    caller: Caller,
    requestId: string,
    input: unknown,
  ): Promise<{ request: AccessRequest; permission?: Permission }> {
    const decision = parseInput(decisionInput, input, "decision");
    const request = await this.permissions.getRequest(requestId);
    if (!request) throw new NotFoundError(`no access request ${requestId}`);
    requireAgencyOrAdmin(caller, request.providerAgency, `decide requests for ${request.datasetId}`);
    if (request.status !== "pending") throw new ConflictError(`request ${requestId} was already ${request.status}`);
    const fields = decision.fields ?? request.fields;
    const widened = fields.filter((field) => !request.fields.includes(field));
    if (widened.length > 0) {
      throw new ValidationError(
        "an approval may only narrow the fields asked for",
        widened.map((field) => ({ name: "fields", reason: `${field} was not requested` })),
      );
    }
    const at = this.now().toISOString();
    let permission: Permission | undefined;
    if (decision.decision === "approve") {
      // Re-checked at decision time: the dataset or the consumer may have changed since.
      const { terms, parties, crossBorder } = await this.check({ ...request, fields }, request.consumerSystem);
      permission = this.permission(terms, parties, {
        grantType: "request",
        requestId,
        grantedBy: caller.systemId,
        at,
        crossBorder,
      });
    }
    const decided: AccessRequest = {
      ...request,
      status: decision.decision === "approve" ? "approved" : "rejected",
      decidedAt: at,
      decidedBy: caller.systemId,
      reason: decision.reason,
      ...(permission ? { permissionId: permission.id } : {}),
    };
    if (!(await this.permissions.decideRequest(decided))) {
      throw new ConflictError(`request ${requestId} was decided by someone else meanwhile`);
    }
    if (permission) await this.permissions.createPermission(permission);
    return { request: decided, ...(permission ? { permission } : {}) };
  }

  /** The operator grants access to a dataset on a mandatory list, with no bilateral agreement (Art. 3.5). */
  async grantMandatory(caller: Caller, input: unknown): Promise<Permission> {
    requireAdmin(caller, "grant access without a request");
    const parsed = parseInput(mandatoryGrantInput, input, "grant");
    const { terms, parties, dataset, crossBorder } = await this.check(parsed, parsed.consumerSystem);
    if (dataset.mandatory === "none") {
      throw new ForbiddenError(`${dataset.id} is on no mandatory list: access to it goes through an access request`);
    }
    const permission = this.permission(terms, parties, {
      grantType: "mandatory",
      grantedBy: caller.systemId,
      at: this.now().toISOString(),
      crossBorder,
    });
    await this.permissions.createPermission(permission);
    return permission;
  }

  /** The provider agency or the operator revokes a permission; it stops working at once. */
  async revoke(caller: Caller, permissionId: string, input: unknown): Promise<Permission> {
    const { reason } = parseInput(revocationInput, input, "revocation");
    const permission = await this.permissions.getPermission(permissionId);
    if (!permission) throw new NotFoundError(`no permission ${permissionId}`);
    requireAgencyOrAdmin(caller, permission.providerAgency, `revoke permissions on ${permission.datasetId}`);
    const revoked = await this.permissions.revokePermission(
      permissionId,
      caller.systemId,
      reason,
      this.now().toISOString(),
    );
    if (!revoked) throw new NotFoundError(`no permission ${permissionId}`);
    return revoked;
  }

  listPermissions(caller: Caller, view: string | undefined, filter: PermissionListFilter, page: Page) {
    return this.permissions.listPermissions(scopeOf(caller, view), filter, page);
  }

  listRequests(caller: Caller, view: string | undefined, filter: PermissionListFilter, page: Page) {
    return this.permissions.listRequests(scopeOf(caller, view), filter, page);
  }

  /** Checks terms against the dataset and the consumer; returns them normalised. */
  private async check(
    input: Omit<AccessTerms, "validFrom"> & { validFrom?: string },
    consumerSystem: string,
  ): Promise<{ terms: AccessTerms; parties: Parties; dataset: Dataset; crossBorder: boolean }> {
    const dataset = await this.catalog.getDataset(input.datasetId);
    if (!dataset) throw new NotFoundError(`no dataset ${input.datasetId} in the catalog`);
    const consumer = await this.registry.getSystem(consumerSystem);
    if (!consumer)
      throw new ValidationError("the consumer system is not registered", [
        { name: "consumerSystem", reason: `no system ${consumerSystem}` },
      ]);
    if (!consumer.system.capabilities.includes("consumer")) {
      throw new AccessRefusedError(
        "not-a-consumer",
        `${consumerSystem} is not registered with the consumer capability`,
      );
    }
    const agency = await this.registry.getAgency(consumer.system.agencyCode);
    const crossBorder = agency !== undefined && isForeign(agency);
    if (crossBorder && !dataset.crossBorderAllowed) {
      throw new AccessRefusedError(
        "cross-border-not-allowed",
        `${dataset.id} is not shared with foreign partners (Art. 11)`,
      );
    }
    const known = dataset.fields.map((field) => field.name);
    const validFrom = input.validFrom ?? this.now().toISOString();
    const invalid = [
      ...input.fields
        .filter((field) => !known.includes(field))
        .map((field) => ({ name: "fields", reason: `${field} is not a field of ${dataset.id}` })),
      ...input.methods
        .filter((method) => !dataset.methods.includes(method))
        .map((method) => ({ name: "methods", reason: `${dataset.id} is not shared by ${method}` })),
      ...(Date.parse(input.validUntil) <= Date.parse(validFrom)
        ? [{ name: "validUntil", reason: "must be after validFrom" }]
        : []),
    ];
    if (invalid.length > 0) throw new ValidationError("the access terms do not fit the dataset", invalid);
    return {
      dataset,
      crossBorder,
      terms: {
        datasetId: dataset.id,
        fields: [...new Set(input.fields)],
        purpose: input.purpose,
        purposeClass: input.purposeClass,
        methods: [...new Set(input.methods)],
        validFrom: new Date(validFrom).toISOString(),
        validUntil: new Date(input.validUntil).toISOString(),
        legalBasis: input.legalBasis,
      },
      parties: { consumerSystem, consumerAgency: consumer.system.agencyCode, providerAgency: dataset.managingAgency },
    };
  }

  private permission(
    terms: AccessTerms,
    parties: Parties,
    grant: {
      grantType: Permission["grantType"];
      requestId?: string;
      grantedBy: string;
      at: string;
      crossBorder: boolean;
    },
  ): Permission {
    return {
      id: `PRM-${this.newId()}`,
      ...terms,
      ...parties,
      grantType: grant.grantType,
      ...(grant.requestId ? { requestId: grant.requestId } : {}),
      grantedBy: grant.grantedBy,
      commercial: terms.purposeClass === "commercial",
      crossBorder: grant.crossBorder,
      status: "active",
      createdAt: grant.at,
    };
  }
}

/** Whose permissions a caller sees: the operator and supervisor all; an agency its own, as consumer or provider. */
function scopeOf(caller: Caller, view: string | undefined): PermissionScope {
  if (isOverseer(caller) && (view === undefined || view === "all")) return { kind: "all" };
  if (view === "provider") return { kind: "provider-agency", agency: caller.agencyCode };
  if (view === undefined || view === "consumer") return { kind: "consumer-agency", agency: caller.agencyCode };
  throw new ValidationError("unknown view", [
    { name: "view", reason: "must be consumer, provider or (operator, supervisor) all" },
  ]);
}
