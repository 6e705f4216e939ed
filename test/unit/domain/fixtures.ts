import { generateKeyPairSync, type JsonWebKey, sign } from "node:crypto";
import type { SchemaVersion } from "../../../domain/dictionary/model.ts";
import type { ExchangeEntry } from "../../../domain/exchange/model.ts";
import type { PackageSpec } from "../../../domain/export/package.ts";
import type { PlatformSigner } from "../../../domain/identity/platform-token.ts";
import type { Permission } from "../../../domain/permissions/model.ts";
import type { KeyRecord, RegistryStore, SystemRecord } from "../../../domain/registry/model.ts";

/** HCM.PORTAL, an active consumer system of HCM with no platform role, registered at `createdAt`. */
export function portalSystemFixture(createdAt: string): SystemRecord {
  return {
    id: "HCM.PORTAL",
    agencyCode: "HCM",
    name: "Portal",
    capabilities: ["consumer"],
    roles: [],
    status: "active",
    createdAt,
  };
}

/** An active permission of HCM.PORTAL on MPS's citizens, valid through 2026; override what a test needs. */
export function permissionFixture(overrides: Partial<Permission> = {}): Permission {
  return {
    id: "PRM-1",
    datasetId: "MPS.POPULATION.CITIZENS",
    fields: ["personalId", "province"],
    purpose: "Household registration",
    purposeClass: "public-service",
    methods: ["request"],
    validFrom: "2026-01-01T00:00:00.000Z",
    validUntil: "2027-01-01T00:00:00.000Z",
    legalBasis: "Art. 4.1",
    consumerSystem: "HCM.PORTAL",
    consumerAgency: "HCM",
    providerAgency: "MPS",
    grantType: "request",
    grantedBy: "MPS.POPULATION",
    commercial: false,
    crossBorder: false,
    status: "active",
    createdAt: "2026-01-01T00:00:00.000Z",
    ...overrides,
  };
}

/** A platform key pair as KMS would hold it: DER signatures, the public half as a JWK with its kid. */
export function platformKeyFixture(kid: string): { signer: PlatformSigner; jwk: JsonWebKey & { kid: string } } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    signer: {
      keyId: kid,
      sign: async (message) => sign("sha256", message, privateKey),
      publicKey: async () => publicKey.export({ format: "der", type: "spki" }),
    },
    jwk: { ...(publicKey.export({ format: "jwk" }) as JsonWebKey), kid },
  };
}

/** An export package of MPS's population register for HCM.PORTAL, of personal ids (12 digits) and provinces; override what a test needs. */
export function exportSpecFixture(overrides: Partial<PackageSpec> = {}): PackageSpec {
  return {
    exportId: "EXP-TEST-0001",
    createdAt: "2026-11-27T08:00:00.000Z",
    platform: "https://dscp.example.gov.vn",
    dataset: {
      id: "MPS.POPULATION.REGISTER",
      title: "Dân cư",
      managingAgency: "MPS",
      providerSystem: "MPS.POPULATION",
      classification: "restricted",
      keyFields: ["personalId"],
    },
    schema: {
      id: "MPS.CITIZEN",
      version: "1.0.0",
      jsonSchema: {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        properties: {
          personalId: { type: "string", pattern: "^\\d{12}$" },
          fullName: { type: "string" },
          province: { type: "string" },
        },
        required: ["personalId"],
        additionalProperties: false,
      },
    },
    format: "ndjson",
    fields: ["personalId", "province"],
    filter: {},
    requester: { system: "HCM.PORTAL", agency: "HCM" },
    consumer: { system: "HCM.PORTAL", agency: "HCM" },
    purpose: "Archive the register on media for the provincial archive",
    permissionId: "PRM-1",
    ...overrides,
  };
}

/** An allowed get-record of HCM.PORTAL on MPS's citizens, as the log holds it; override what a test needs. */
export function exchangeEntryFixture(overrides: Partial<ExchangeEntry> = {}): ExchangeEntry {
  return {
    transactionId: "t",
    time: "2026-11-27T08:00:00.000Z",
    consumerSystem: "HCM.PORTAL",
    consumerAgency: "HCM",
    datasetId: "MPS.POPULATION.CITIZENS",
    operation: "get-record",
    method: "request",
    fieldsReturned: [],
    recordCount: 1,
    outcome: "allowed",
    status: 200,
    latencyMs: 10,
    bytes: 100,
    crossBorder: false,
    ...overrides,
  };
}

/** Items as an async stream, as stores hand them over a page at a time. */
export async function* streamOf<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}

/** A registry held in maps (every agency exists), exposing what was written. */
export function memoryRegistry(): RegistryStore & { systems: Map<string, SystemRecord>; keys: KeyRecord[] } {
  const systems = new Map<string, SystemRecord>();
  const keys: KeyRecord[] = [];
  const keyIndex = (systemId: string, kid: string) =>
    keys.findIndex((key) => key.systemId === systemId && key.kid === kid);
  return {
    systems,
    keys,
    createAgency: async () => {},
    getAgency: async (code) => ({ code, name: code, level: "central", country: "VN", createdAt: "" }),
    listAgencies: async () => ({ items: [] }),
    listSystems: async (filter) => ({
      items: [...systems.values()].filter(
        (system) =>
          (!filter.agency || system.agencyCode === filter.agency) &&
          (!filter.endpointStatus || system.endpointStatus === filter.endpointStatus),
      ),
    }),
    createSystem: async (system, written) => {
      systems.set(system.id, system);
      keys.push(...written);
    },
    getSystem: async (id) => {
      const system = systems.get(id);
      return system ? { system, keys: keys.filter((key) => key.systemId === id) } : undefined;
    },
    addKey: async (key) => {
      keys.push(key);
    },
    changeEndpoint: async (systemId, endpoint) => {
      const system = systems.get(systemId);
      if (!system) return undefined;
      const { endpointApprovedBy: _by, endpointApprovedAt: _at, ...rest } = system;
      const changed: SystemRecord = { ...rest, endpoint, endpointStatus: "pending" };
      systems.set(systemId, changed);
      return changed;
    },
    approveEndpoint: async (systemId, endpoint, approval) => {
      const system = systems.get(systemId);
      if (system?.endpoint !== endpoint) return undefined;
      const approved: SystemRecord = {
        ...system,
        endpointStatus: "approved",
        endpointApprovedBy: approval.approvedBy,
        endpointApprovedAt: approval.approvedAt,
      };
      systems.set(systemId, approved);
      return approved;
    },
    revokeKey: async (systemId, kid, at) => {
      const index = keyIndex(systemId, kid);
      const found = keys[index];
      if (!found) return undefined;
      keys[index] = { ...found, status: "revoked", revokedAt: at };
      return keys[index];
    },
  };
}

/** The citizen schema the sync tests validate against: an id required, a name, nothing else. */
export const citizenSchemaFixture = {
  id: "MPS.CITIZEN",
  version: "1.0.0",
  jsonSchema: {
    type: "object",
    properties: { personalId: { type: "string" }, fullName: { type: "string" } },
    required: ["personalId"],
    additionalProperties: false,
  },
} as unknown as SchemaVersion;
