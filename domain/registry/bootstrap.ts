import * as z from "zod/mini";
import { ConflictError } from "../identity/errors.ts";
import { parseInput } from "../validation.ts";
import { algorithmOf, newKeyInput, type RegistryStore } from "./model.ts";

/** The operator's agency and system, created by the one-time bootstrap. */
export const OPERATOR_AGENCY = "NDC";
export const OPERATOR_SYSTEM = "NDC.OPERATOR";

export const bootstrapInput = z.object({ operatorKey: newKeyInput });

/**
 * Creates the National Data Center and its operator system (role `platform-admin`) with the
 * given public key, so the operator can sign its first request. Safe to repeat: what exists
 * is kept, and a new key is added beside the old ones.
 */
export async function bootstrapOperator(
  store: RegistryStore,
  input: unknown,
  now: () => Date = () => new Date(),
): Promise<{ agencyCode: string; systemId: string; kid: string }> {
  const { operatorKey } = parseInput(bootstrapInput, input, "bootstrap");
  const createdAt = now().toISOString();
  const key = {
    systemId: OPERATOR_SYSTEM,
    kid: operatorKey.kid,
    alg: algorithmOf(operatorKey.jwk),
    jwk: { ...operatorKey.jwk, kid: operatorKey.kid },
    status: "active" as const,
    createdAt,
  };
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
  } else if (!existing.keys.some((candidate) => candidate.kid === key.kid)) {
    await store.addKey(key);
  }
  return { agencyCode: OPERATOR_AGENCY, systemId: OPERATOR_SYSTEM, kid: key.kid };
}

async function ignoreConflict(write: Promise<void>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
}
