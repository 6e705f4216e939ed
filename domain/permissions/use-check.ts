import type { Dataset, SharingMethod } from "../catalog/model.ts";
import type { Agency } from "../registry/model.ts";
import { AccessRefusedError } from "./errors.ts";
import type { Permission } from "./model.ts";

/** Whether an agency is a foreign partner, whose access is cross-border (Art. 11). */
export function isForeign(agency: Pick<Agency, "level" | "country">): boolean {
  return agency.level === "foreign" || agency.country !== "VN";
}

export interface UseRequest {
  readonly consumerSystem: string;
  readonly consumerAgency: Pick<Agency, "level" | "country">;
  readonly dataset: Pick<Dataset, "id" | "crossBorderAllowed">;
  readonly method: SharingMethod;
  /** Fields the consumer asked for; none means "all it may see". */
  readonly requestedFields?: readonly string[];
  readonly now: Date;
}

/**
 * Decides, at the moment of use, whether a consumer may use a dataset this way, and which
 * fields it may see: an active permission whose window covers now and whose methods include
 * this one. Expiry and revocation take effect at once, whatever was decided before.
 */
export function authorizeUse(permissions: readonly Permission[], request: UseRequest): Permission {
  const { dataset, now } = request;
  if (isForeign(request.consumerAgency) && !dataset.crossBorderAllowed) {
    throw new AccessRefusedError("cross-border-not-allowed", `${dataset.id} is not shared across borders (Art. 11)`);
  }
  const mine = permissions.filter(
    (permission) => permission.consumerSystem === request.consumerSystem && permission.datasetId === dataset.id,
  );
  if (mine.length === 0)
    throw new AccessRefusedError("no-permission", `${request.consumerSystem} has no permission on ${dataset.id}`);

  const at = now.toISOString();
  const active = mine.filter((permission) => permission.status === "active");
  const current = active.filter((permission) => permission.validFrom <= at && at < permission.validUntil);
  const usable = current.filter((permission) => permission.methods.includes(request.method));
  if (usable.length === 0) {
    if (active.length === 0)
      throw new AccessRefusedError("permission-revoked", `every permission on ${dataset.id} was revoked`);
    if (current.length === 0) {
      if (active.every((permission) => permission.validFrom > at)) {
        throw new AccessRefusedError("permission-not-yet-valid", `the permission on ${dataset.id} is not valid yet`);
      }
      throw new AccessRefusedError("permission-expired", `the permission on ${dataset.id} has expired`);
    }
    throw new AccessRefusedError(
      "method-not-permitted",
      `${request.method} is not a permitted method on ${dataset.id}`,
    );
  }

  const requested = request.requestedFields ?? [];
  const covering = usable.find((permission) => requested.every((field) => permission.fields.includes(field)));
  if (!covering) {
    const allowed = new Set(usable.flatMap((permission) => permission.fields));
    const refused = requested.filter((field) => !allowed.has(field));
    throw new AccessRefusedError(
      "field-not-permitted",
      `${refused.length} requested field(s) are not permitted`,
      refused.map((field) => ({ name: field, reason: "not a permitted field" })),
    );
  }
  return covering;
}
