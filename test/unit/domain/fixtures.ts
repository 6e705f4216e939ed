import type { Permission } from "../../../domain/permissions/model.ts";

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
