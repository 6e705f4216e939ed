import { ForbiddenError } from "../problem.ts";
import type { Caller } from "../registry/model.ts";

/** Whether the caller is the platform operator (National Data Center). */
export function isAdmin(caller: Caller): boolean {
  return caller.roles.includes("platform-admin");
}

/** Only the operator may do `action`. */
export function requireAdmin(caller: Caller, action: string): void {
  if (!isAdmin(caller)) throw new ForbiddenError(`only the platform operator may ${action}`);
}

/** An agency acts on what is its own; the operator on everything. */
export function requireAgencyOrAdmin(caller: Caller, agencyCode: string, action: string): void {
  if (!isAdmin(caller) && caller.agencyCode !== agencyCode) {
    throw new ForbiddenError(`${caller.systemId} belongs to ${caller.agencyCode} and may not ${action}`);
  }
}

/** The operator and the supervisor (Ministry of Public Security) oversee everything (Art. 13). */
export function isOverseer(caller: Caller): boolean {
  return isAdmin(caller) || caller.roles.includes("supervisor");
}
