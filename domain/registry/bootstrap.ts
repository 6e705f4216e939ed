import * as z from "zod/mini";
import { ConflictError, ProblemError } from "../problem.ts";
import { parseInput } from "../validation.ts";
import { algorithmOf, type KeyRecord, newKeyInput, type RegistryStore } from "./model.ts";

/** The operator's agency and system, created by the one-time bootstrap. */
export const OPERATOR_AGENCY = "NDC";
export const OPERATOR_SYSTEM = "NDC.OPERATOR";

export const bootstrapInput = z.object({
  operatorKey: newKeyInput,
  /** Replace the operator's keys with this one (a lost or exposed operator key); otherwise a second run is refused. */
  rotate: z._default(z.boolean(), false),
});

/** What a bootstrap did: `created` the operator, found it `unchanged` (same key), or `rotated` its keys. */
export interface BootstrapResult {
  readonly agencyCode: string;
  readonly systemId: string;
  readonly kid: string;
  readonly outcome: "created" | "unchanged" | "rotated";
  /** Keys a rotation revoked. */
  readonly revoked?: readonly string[];
}

/** The operator exists with other keys, and the caller did not ask to rotate them. */
export class AlreadyBootstrappedError extends ProblemError {
  constructor(detail: string) {
    super(409, "already-bootstrapped", "The platform is already bootstrapped", detail);
  }
}

/**
 * Creates the National Data Center and its operator system (role `platform-admin`) with the
 * given public key, so the operator can sign its first request. It runs once: repeating it with
 * the key already registered changes nothing, and any other key is refused unless `rotate` asks
 * to replace the operator's keys with it (the new key added, every other one revoked).
 */
export async function bootstrapOperator(
  store: RegistryStore,
  input: unknown,
  now: () => Date = () => new Date(),
): Promise<BootstrapResult> {
  const { operatorKey, rotate } = parseInput(bootstrapInput, input, "bootstrap");
  const createdAt = now().toISOString();
  const key: KeyRecord = {
    systemId: OPERATOR_SYSTEM,
    kid: operatorKey.kid,
    alg: algorithmOf(operatorKey.jwk),
    jwk: { ...operatorKey.jwk, kid: operatorKey.kid },
    status: "active",
    createdAt,
  };
  const done = (outcome: BootstrapResult["outcome"], revoked?: string[]): BootstrapResult => ({
    agencyCode: OPERATOR_AGENCY,
    systemId: OPERATOR_SYSTEM,
    kid: key.kid,
    outcome,
    ...(revoked ? { revoked } : {}),
  });
  await ignoreConflict(
    store.createAgency({
      code: OPERATOR_AGENCY,
      name: "Trung tâm Dữ liệu quốc gia",
      nameEn: "National Data Center",
      level: "central",
      country: "VN",
      createdAt,
    }),
  );
  const existing = await store.getSystem(OPERATOR_SYSTEM);
  if (!existing) {
    await store.createSystem(
      {
        id: OPERATOR_SYSTEM,
        agencyCode: OPERATOR_AGENCY,
        name: "National Data Center operator console",
        capabilities: [],
        roles: ["platform-admin"],
        status: "active",
        createdAt,
      },
      [key],
    );
    return done("created");
  }
  const same = existing.keys.find((stored) => stored.kid === key.kid);
  if (same && same.status === "active" && sameKey(same, key) && !rotate) return done("unchanged");
  if (!rotate) {
    throw new AlreadyBootstrappedError(
      `${OPERATOR_SYSTEM} exists with other keys: the bootstrap adds no key to it unless asked to rotate`,
    );
  }
  if (!same) await store.addKey(key);
  else if (!sameKey(same, key) || same.status !== "active") {
    throw new ConflictError(`${OPERATOR_SYSTEM} already has a different key ${key.kid}: rotate to a new kid`);
  }
  const revoked: string[] = [];
  for (const stored of existing.keys) {
    if (stored.kid === key.kid || stored.status !== "active") continue;
    await store.revokeKey(OPERATOR_SYSTEM, stored.kid, createdAt);
    revoked.push(stored.kid);
  }
  return done("rotated", revoked);
}

/** Whether two registered keys hold the same public key material, whatever else their JWKs say. */
function sameKey(a: KeyRecord, b: KeyRecord): boolean {
  const material = (jwk: KeyRecord["jwk"]) => [jwk.kty, jwk.crv, jwk.x, "y" in jwk ? jwk.y : ""].join(" ");
  return material(a.jwk) === material(b.jwk);
}

async function ignoreConflict(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}
