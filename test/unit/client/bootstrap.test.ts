import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootstrapOperator } from "../../../client/bootstrap.ts";
import { identityPath, loadIdentity } from "../../../client/identity-files.ts";
import { OPERATOR_SYSTEM } from "../../../domain/registry/bootstrap.ts";

const keysDir = () => mkdtemp(join(tmpdir(), "dscp-bootstrap-"));

describe("the operator bootstrap client", () => {
  it("sends the same key file's key on every run, asking for no rotation", async () => {
    const dir = await keysDir();
    const sent: unknown[] = [];

    const first = await bootstrapOperator(dir, async (payload) => sent.push(payload));
    await bootstrapOperator(dir, async (payload) => sent.push(payload));

    expect(sent).toEqual([
      { operatorKey: { kid: first.identity.kid, jwk: first.identity.publicJwk } },
      { operatorKey: { kid: first.identity.kid, jwk: first.identity.publicJwk } },
    ]);
  });

  it("rotates to a new key file once the platform holds it, keeping the old one aside", async () => {
    const dir = await keysDir();
    const first = await bootstrapOperator(dir, async () => {});

    const rotated = await bootstrapOperator(dir, async () => {}, { rotate: true });

    expect(loadIdentity(identityPath(dir, OPERATOR_SYSTEM)).kid).toBe(rotated.identity.kid);
    expect(rotated.identity.kid).not.toBe(first.identity.kid);
    expect(rotated.previousKeyFile && loadIdentity(rotated.previousKeyFile).kid).toBe(first.identity.kid);
  });

  it("keeps the old key file when the platform refuses the rotation", async () => {
    const dir = await keysDir();
    const first = await bootstrapOperator(dir, async () => {});

    const refused = bootstrapOperator(
      dir,
      async () => {
        throw new Error("refused");
      },
      { rotate: true },
    );

    await expect(refused).rejects.toThrow("refused");
    expect(loadIdentity(identityPath(dir, OPERATOR_SYSTEM)).kid).toBe(first.identity.kid);
    expect(existsSync(join(dir, `${OPERATOR_SYSTEM}.${first.identity.kid}.json`))).toBe(false);
  });
});
