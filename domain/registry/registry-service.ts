import { isAdmin, requireAdmin, requireAgencyOrAdmin } from "../identity/authorization.ts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "../problem.ts";
import { parseInput } from "../validation.ts";
import { type EndpointPolicy, endpointPolicy, endpointRefusal } from "./endpoint-policy.ts";
import {
  type Agency,
  algorithmOf,
  type Caller,
  endpointApprovalInput,
  type KeyRecord,
  newAgencyInput,
  newKeyInput,
  newSystemInput,
  type Page,
  type RegistryStore,
  type SystemFilter,
  type SystemRecord,
  systemListQuery,
  systemPatch,
} from "./model.ts";

/** Registry operations (operator and agencies), with who may do what. */
export class RegistryService {
  private readonly now: () => Date;
  private readonly policy: EndpointPolicy;

  constructor(
    private readonly store: RegistryStore,
    options: { now?: () => Date; policy?: EndpointPolicy } = {},
  ) {
    this.now = options.now ?? (() => new Date());
    // Without a stage, the strictest policy: https and public addresses only.
    this.policy = options.policy ?? endpointPolicy("prod");
  }

  /** The National Data Center registers an agency. */
  async registerAgency(caller: Caller, input: unknown): Promise<Agency> {
    requireAdmin(caller, "register agencies");
    const parsed = parseInput(newAgencyInput, input, "agency");
    if (parsed.parentCode && !(await this.store.getAgency(parsed.parentCode))) {
      throw new ValidationError("the parent agency is not registered", [
        { name: "parentCode", reason: `no agency ${parsed.parentCode}` },
      ]);
    }
    if ((parsed.level === "foreign") === (parsed.country === "VN")) {
      throw new ValidationError("foreign agencies, and only they, have a country other than VN", [
        { name: "country", reason: `a ${parsed.level} agency cannot have country ${parsed.country}` },
      ]);
    }
    const agency: Agency = { ...parsed, createdAt: this.now().toISOString() };
    await this.store.createAgency(agency);
    return agency;
  }

  listAgencies(options: { limit: number; cursor?: string }): Promise<Page<Agency>> {
    return this.store.listAgencies(options);
  }

  /**
   * Systems, by agency and endpoint status: the operator sees every agency's (what awaits its
   * approval: `endpointStatus: "pending"`), any other caller its own agency's only.
   */
  async listSystems(
    caller: Caller,
    query: unknown,
    page: { limit: number; cursor?: string },
  ): Promise<Page<SystemRecord>> {
    const filter: SystemFilter = parseInput(systemListQuery, query, "system filter");
    if (isAdmin(caller)) return this.store.listSystems(filter, page);
    const agency = filter.agency ?? caller.agencyCode;
    requireAgencyOrAdmin(caller, agency, `list the systems of ${agency}`);
    return this.store.listSystems({ ...filter, agency }, page);
  }

  /** An agency registers one of its systems (Agent Nodes); only the operator grants roles. */
  async registerSystem(caller: Caller, agencyCode: string, input: unknown): Promise<SystemRecord> {
    requireAgencyOrAdmin(caller, agencyCode, `register systems of ${agencyCode}`);
    const parsed = parseInput(newSystemInput, input, "system");
    if (!parsed.id.startsWith(`${agencyCode}.`)) {
      throw new ValidationError("a system id starts with its agency's code", [
        { name: "id", reason: `must start with ${agencyCode}.` },
      ]);
    }
    if (parsed.endpoint !== undefined) this.requireCallable(parsed.endpoint);
    if (parsed.roles.length > 0) requireAdmin(caller, "grant platform roles");
    if (!(await this.store.getAgency(agencyCode))) throw new NotFoundError(`no agency ${agencyCode}`);
    const createdAt = this.now().toISOString();
    const system: SystemRecord = {
      id: parsed.id,
      agencyCode,
      name: parsed.name,
      capabilities: [...new Set(parsed.capabilities)],
      roles: [...new Set(parsed.roles)],
      // A new endpoint waits for the operator's approval before any traffic flows to it.
      ...(parsed.endpoint ? { endpoint: parsed.endpoint, endpointStatus: "pending" as const } : {}),
      status: "active",
      createdAt,
    };
    const kids = parsed.keys.map((key) => key.kid);
    if (new Set(kids).size !== kids.length) throw new ConflictError("two keys share one kid");
    const keys = parsed.keys.map((key) => keyRecord(system.id, key.kid, key.jwk, createdAt));
    await this.store.createSystem(system, keys);
    return system;
  }

  /**
   * Its agency (or the operator) moves a system to a new endpoint, which waits for the
   * operator's approval again before any traffic flows to it.
   */
  async changeEndpoint(caller: Caller, systemId: string, input: unknown): Promise<SystemRecord> {
    const { endpoint } = parseInput(systemPatch, input, "system");
    await this.managedSystem(caller, systemId, "change the endpoint of");
    this.requireCallable(endpoint);
    const changed = await this.store.changeEndpoint(systemId, endpoint);
    if (!changed) throw new NotFoundError(`no system ${systemId}`);
    return changed;
  }

  /**
   * The operator approves a system's endpoint, naming the one it reviewed: from now on the
   * platform calls it. Refused (409) when the system's endpoint is no longer that one.
   */
  async approveEndpoint(caller: Caller, systemId: string, input: unknown): Promise<SystemRecord> {
    requireAdmin(caller, "approve endpoints");
    const { endpoint } = parseInput(endpointApprovalInput, input, "approval");
    const found = await this.store.getSystem(systemId);
    if (!found) throw new NotFoundError(`no system ${systemId}`);
    if (!found.system.endpoint) throw new ConflictError(`${systemId} has no endpoint to approve`);
    const refusal = endpointRefusal(found.system.endpoint, this.policy);
    if (refusal) throw new ConflictError(`the endpoint of ${systemId} is not one the platform calls: ${refusal}`);
    const approved = await this.store.approveEndpoint(systemId, endpoint, {
      approvedBy: caller.systemId,
      approvedAt: this.now().toISOString(),
    });
    if (!approved) {
      throw new ConflictError(`the endpoint of ${systemId} is not ${endpoint}: review its current endpoint`);
    }
    return approved;
  }

  /** Adds a key to a system (rotation: add the new key, switch, then revoke the old one). */
  async addKey(caller: Caller, systemId: string, input: unknown): Promise<KeyRecord> {
    const system = await this.managedSystem(caller, systemId, "add keys to");
    const parsed = parseInput(newKeyInput, input, "key");
    const key = keyRecord(system.id, parsed.kid, parsed.jwk, this.now().toISOString());
    await this.store.addKey(key);
    return key;
  }

  /** Revokes a key at once: tokens it signed are refused from now on. */
  async revokeKey(caller: Caller, systemId: string, kid: string): Promise<KeyRecord> {
    await this.managedSystem(caller, systemId, "revoke keys of");
    const revoked = await this.store.revokeKey(systemId, kid, this.now().toISOString());
    if (!revoked) throw new NotFoundError(`system ${systemId} has no key ${kid}`);
    return revoked;
  }

  /** Refuses an endpoint the platform would not call (scheme, credentials, host): 400 naming it. */
  private requireCallable(endpoint: string): void {
    const refusal = endpointRefusal(endpoint, this.policy);
    if (refusal) {
      throw new ValidationError("the platform does not call that endpoint", [{ name: "endpoint", reason: refusal }]);
    }
  }

  private async managedSystem(caller: Caller, systemId: string, action: string): Promise<SystemRecord> {
    const found = await this.store.getSystem(systemId);
    if (!found) {
      // Outsiders learn nothing about which systems exist.
      if (!isAdmin(caller) && !systemId.startsWith(`${caller.agencyCode}.`)) {
        throw new ForbiddenError(`${caller.systemId} may not ${action} ${systemId}`);
      }
      throw new NotFoundError(`no system ${systemId}`);
    }
    requireAgencyOrAdmin(caller, found.system.agencyCode, `${action} ${systemId}`);
    // A system holding a platform role is managed by the operator or by itself, never by a
    // sibling: otherwise any system of its agency could give itself the role through a key.
    if (found.system.roles.length > 0 && !isAdmin(caller) && caller.systemId !== systemId) {
      throw new ForbiddenError(`${systemId} holds a platform role: only it or the operator may ${action} it`);
    }
    return found.system;
  }
}

function keyRecord(systemId: string, kid: string, jwk: KeyRecord["jwk"], createdAt: string): KeyRecord {
  return { systemId, kid, alg: algorithmOf(jwk), jwk: { ...jwk, kid }, status: "active", createdAt };
}
