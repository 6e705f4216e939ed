import { describe, expect, it } from "vitest";
import { AlreadyBootstrappedError, bootstrapOperator, OPERATOR_SYSTEM } from "../../../domain/registry/bootstrap.ts";
import { memoryRegistry } from "./fixtures.ts";

const jwk = (fill: string) => ({ kty: "OKP", crv: "Ed25519", x: fill.repeat(43) });
const activeKids = (store: ReturnType<typeof memoryRegistry>) =>
  store.keys.filter((key) => key.status === "active").map((key) => key.kid);

describe("the operator bootstrap", () => {
  it("creates the operator with its key the first time", async () => {
    const store = memoryRegistry();

    const result = await bootstrapOperator(store, { operatorKey: { kid: "first", jwk: jwk("A") } });

    expect(result).toMatchObject({ systemId: OPERATOR_SYSTEM, kid: "first", outcome: "created" });
    expect(store.systems.get(OPERATOR_SYSTEM)?.roles).toEqual(["platform-admin"]);
    expect(activeKids(store)).toEqual(["first"]);
  });

  it("changes nothing when run again with the key already registered", async () => {
    const store = memoryRegistry();
    await bootstrapOperator(store, { operatorKey: { kid: "first", jwk: jwk("A") } });

    const again = await bootstrapOperator(store, { operatorKey: { kid: "first", jwk: jwk("A") } });

    expect(again.outcome).toBe("unchanged");
    expect(store.keys).toHaveLength(1);
  });

  it("refuses to add another operator key when not asked to rotate", async () => {
    const store = memoryRegistry();
    await bootstrapOperator(store, { operatorKey: { kid: "first", jwk: jwk("A") } });

    const second = bootstrapOperator(store, { operatorKey: { kid: "second", jwk: jwk("B") } });
    const reused = bootstrapOperator(store, { operatorKey: { kid: "first", jwk: jwk("B") } });

    await expect(second).rejects.toBeInstanceOf(AlreadyBootstrappedError);
    await expect(reused).rejects.toBeInstanceOf(AlreadyBootstrappedError);
    expect(activeKids(store)).toEqual(["first"]);
  });

  it("replaces every operator key with the new one when asked to rotate", async () => {
    const store = memoryRegistry();
    await bootstrapOperator(store, { operatorKey: { kid: "first", jwk: jwk("A") } });

    const rotated = await bootstrapOperator(store, { operatorKey: { kid: "second", jwk: jwk("B") }, rotate: true });

    expect(rotated).toMatchObject({ kid: "second", outcome: "rotated", revoked: ["first"] });
    expect(activeKids(store)).toEqual(["second"]);
  });
});
