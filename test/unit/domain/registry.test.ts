import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../domain/problem.ts";
import type { Caller, KeyRecord, RegistryStore, SystemRecord } from "../../../domain/registry/model.ts";
import { RegistryService } from "../../../domain/registry/registry-service.ts";

const operator: Caller = {
  systemId: "NDC.OPERATOR",
  agencyCode: "NDC",
  roles: ["platform-admin"],
  capabilities: [],
  kid: "op",
};
const jwk = { kty: "OKP", crv: "Ed25519", x: "A".repeat(43) } as const;

/** A registry held in maps, recording what was written. */
function memoryStore(): RegistryStore & { systems: Map<string, SystemRecord>; keys: KeyRecord[] } {
  const systems = new Map<string, SystemRecord>();
  const keys: KeyRecord[] = [];
  return {
    systems,
    keys,
    createAgency: async () => {},
    getAgency: async (code) => ({ code, name: code, level: "central", country: "VN", createdAt: "" }),
    listAgencies: async () => ({ items: [] }),
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
    revokeKey: async () => undefined,
  };
}

describe("registering a system", () => {
  it("refuses an endpoint too long to store, naming it, before anything is written", async () => {
    const store = memoryStore();
    const service = new RegistryService(store);

    const registering = service.registerSystem(operator, "NDC", {
      id: "NDC.SUPERVISOR",
      name: "Takeover",
      capabilities: ["consumer"],
      endpoint: `https://a.example.gov.vn/${"x".repeat(300_000)}`,
      keys: [{ kid: "planted", jwk }],
    });

    await expect(registering).rejects.toBeInstanceOf(ValidationError);
    await expect(registering).rejects.toMatchObject({ invalidParams: [expect.objectContaining({ name: "endpoint" })] });
    expect(store.systems.size + store.keys.length).toBe(0);
  });
});
