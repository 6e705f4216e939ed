import { describe, expect, it } from "vitest";
import { ForbiddenError, ValidationError } from "../../../domain/problem.ts";
import { endpointPolicy } from "../../../domain/registry/endpoint-policy.ts";
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

describe("a system's endpoint", () => {
  const agencySystem: Caller = {
    systemId: "MOH.HIS",
    agencyCode: "MOH",
    roles: [],
    capabilities: ["provider"],
    kid: "k",
  };
  const register = (service: RegistryService, endpoint: string, caller: Caller = operator) =>
    service.registerSystem(caller, "MOH", { id: "MOH.HIS", name: "Health", capabilities: ["provider"], endpoint });

  it.each([
    "http://169.254.169.254/",
    "https://2852039166/",
    "https://[::ffff:169.254.169.254]/",
    "https://[fd00:ec2::254]/",
    "https://[fe80::1]/",
    "https://10.0.0.1/",
    "https://127.0.0.1/",
    "http://his.moh.gov.vn/",
  ])("is refused at registration outside the local stage: %s", async (endpoint) => {
    const store = memoryRegistry();

    const registering = register(new RegistryService(store, { policy: endpointPolicy("prod") }), endpoint);

    await expect(registering).rejects.toMatchObject({
      status: 400,
      invalidParams: [expect.objectContaining({ name: "endpoint" })],
    });
    expect(store.systems.size).toBe(0);
  });

  it("takes loopback over http on the local stage, and still no metadata address", async () => {
    const service = new RegistryService(memoryRegistry(), { policy: endpointPolicy("local") });

    await expect(register(service, "http://127.0.0.1:9000/dscp")).resolves.toMatchObject({ endpointStatus: "pending" });
    await expect(register(service, "http://0xa9fea9fe/")).rejects.toMatchObject({ status: 400 });
  });

  it("waits for the operator's approval of exactly the endpoint it reviewed", async () => {
    const store = memoryRegistry();
    const service = new RegistryService(store, { now: () => new Date("2026-11-29T00:00:00Z") });
    const registered = await register(service, "https://his.moh.gov.vn/dscp", agencySystem);

    const bySelf = service.approveEndpoint(agencySystem, "MOH.HIS", { endpoint: "https://his.moh.gov.vn/dscp" });
    const another = service.approveEndpoint(operator, "MOH.HIS", { endpoint: "https://other.moh.gov.vn" });
    const approved = await service.approveEndpoint(operator, "MOH.HIS", { endpoint: "https://his.moh.gov.vn/dscp" });

    expect(registered.endpointStatus).toBe("pending");
    await expect(bySelf).rejects.toMatchObject({ status: 403 });
    await expect(another).rejects.toMatchObject({ status: 409 });
    expect(approved).toMatchObject({
      endpointStatus: "approved",
      endpointApprovedBy: "NDC.OPERATOR",
      endpointApprovedAt: "2026-11-29T00:00:00.000Z",
    });
  });

  it("is pending again once moved, and only where the platform would call", async () => {
    const store = memoryRegistry();
    const service = new RegistryService(store);
    await register(service, "https://his.moh.gov.vn/dscp", agencySystem);
    await service.approveEndpoint(operator, "MOH.HIS", { endpoint: "https://his.moh.gov.vn/dscp" });

    const moved = await service.changeEndpoint(agencySystem, "MOH.HIS", { endpoint: "https://his2.moh.gov.vn/dscp" });
    const refused = service.changeEndpoint(agencySystem, "MOH.HIS", { endpoint: "https://169.254.169.254/" });

    expect(moved).toMatchObject({ endpoint: "https://his2.moh.gov.vn/dscp", endpointStatus: "pending" });
    expect(moved.endpointApprovedBy).toBeUndefined();
    await expect(refused).rejects.toMatchObject({ status: 400, invalidParams: [{ name: "endpoint" }] });
  });

  it("of a system holding a platform role cannot be moved by a sibling", async () => {
    const store = memoryRegistry();
    const service = new RegistryService(store);
    await service.registerSystem(operator, "MOH", {
      id: "MOH.INSPECT",
      name: "Inspection",
      capabilities: ["consumer"],
      roles: ["supervisor"],
    });

    const moved = service.changeEndpoint(agencySystem, "MOH.INSPECT", { endpoint: "https://evil.example.com" });

    await expect(moved).rejects.toMatchObject({ status: 403 });
  });
});

describe("listing systems", () => {
  const agencySystem: Caller = { systemId: "MOH.HIS", agencyCode: "MOH", roles: [], capabilities: [], kid: "k" };
  async function registered() {
    const store = memoryRegistry();
    const service = new RegistryService(store, { policy: endpointPolicy("local") });
    for (const [agency, id] of [
      ["MOH", "MOH.HIS"],
      ["MOF", "MOF.TAX"],
    ] as const) {
      await service.registerSystem(operator, agency, {
        id,
        name: "System",
        capabilities: ["provider"],
        endpoint: `https://${id.toLowerCase()}.example.gov.vn/`,
      });
    }
    return service;
  }

  it("shows the operator every agency's pending endpoints", async () => {
    const service = await registered();

    const page = await service.listSystems(operator, { endpointStatus: "pending" }, { limit: 25 });

    expect(page.items.map((system) => system.id).sort()).toEqual(["MOF.TAX", "MOH.HIS"]);
  });

  it("shows an agency its own systems only", async () => {
    const service = await registered();

    const page = await service.listSystems(agencySystem, { endpointStatus: "pending" }, { limit: 25 });

    expect(page.items.map((system) => system.id)).toEqual(["MOH.HIS"]);
  });

  it("refuses an agency another agency's systems", async () => {
    const service = await registered();

    const listing = service.listSystems(agencySystem, { agency: "MOF" }, { limit: 25 });

    await expect(listing).rejects.toBeInstanceOf(ForbiddenError);
  });

  it("names an endpoint status it does not know", async () => {
    const service = await registered();

    const listing = service.listSystems(operator, { endpointStatus: "waiting" }, { limit: 25 });

    await expect(listing).rejects.toMatchObject({
      invalidParams: [expect.objectContaining({ name: "endpointStatus" })],
    });
  });
});
