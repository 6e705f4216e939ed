import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../domain/problem.ts";
import type { Caller } from "../../../domain/registry/model.ts";
import { RegistryService } from "../../../domain/registry/registry-service.ts";
import { memoryRegistry } from "./fixtures.ts";

const operator: Caller = {
  systemId: "NDC.OPERATOR",
  agencyCode: "NDC",
  roles: ["platform-admin"],
  capabilities: [],
  kid: "op",
};
const jwk = { kty: "OKP", crv: "Ed25519", x: "A".repeat(43) } as const;

describe("registering a system", () => {
  it("refuses an endpoint too long to store, naming it, before anything is written", async () => {
    const store = memoryRegistry();
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
