import { describe, expect, it } from "vitest";
import { AccessRefusedError } from "../../../domain/permissions/errors.ts";
import { authorizeUse, type UseRequest } from "../../../domain/permissions/use-check.ts";
import { permissionFixture } from "./fixtures.ts";

const now = new Date("2026-11-27T08:00:00Z");
const permission = permissionFixture;
const use = (overrides: Partial<UseRequest> = {}): UseRequest => ({
  consumerSystem: "HCM.PORTAL",
  consumerAgency: { level: "provincial", country: "VN" },
  dataset: { id: "MPS.POPULATION.CITIZENS", crossBorderAllowed: false },
  method: "request",
  now,
  ...overrides,
});

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof AccessRefusedError) return error.refusal;
    throw error;
  }
  return "allowed";
}

describe("authorizeUse", () => {
  it("returns the permission that covers the requested fields", () => {
    expect(authorizeUse([permission()], use({ requestedFields: ["province"] })).id).toBe("PRM-1");
  });

  it.each([
    ["no permission at all", [], use(), "no-permission"],
    ["a permission of another consumer", [permission({ consumerSystem: "HN.PORTAL" })], use(), "no-permission"],
    ["a revoked permission", [permission({ status: "revoked" })], use(), "permission-revoked"],
    ["an expired permission", [permission({ validUntil: "2026-11-27T07:59:59.000Z" })], use(), "permission-expired"],
    [
      "a permission not yet valid",
      [permission({ validFrom: "2026-12-01T00:00:00.000Z" })],
      use(),
      "permission-not-yet-valid",
    ],
    ["another method", [permission()], use({ method: "sync" }), "method-not-permitted"],
    [
      "a field not permitted",
      [permission()],
      use({ requestedFields: ["province", "birthDate"] }),
      "field-not-permitted",
    ],
    [
      "a foreign consumer on a domestic dataset",
      [permission()],
      use({ consumerAgency: { level: "foreign", country: "LA" } }),
      "cross-border-not-allowed",
    ],
  ] as const)("refuses %s", (_case, permissions, request, expected) => {
    expect(refusal(() => authorizeUse(permissions, request))).toBe(expected);
  });

  it("names each field that is not permitted", () => {
    try {
      authorizeUse([permission()], use({ requestedFields: ["birthDate", "fullName", "province"] }));
      expect.unreachable();
    } catch (error) {
      expect((error as AccessRefusedError).invalidParams.map((param) => param.name)).toEqual(["birthDate", "fullName"]);
    }
  });

  it("uses a still-valid permission when another has expired", () => {
    const permissions = [permission({ id: "old", validUntil: "2026-06-01T00:00:00.000Z" }), permission({ id: "new" })];
    expect(authorizeUse(permissions, use()).id).toBe("new");
  });
});
