import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import { OPERATOR_SYSTEM } from "../domain/registry/bootstrap.ts";
import {
  ensureIdentity,
  generateIdentity,
  type IdentityFile,
  identityPath,
  loadIdentity,
  saveIdentity,
} from "./identity-files.ts";

/**
 * Makes sure the operator has a key in `keysDir` (creating one the first time) and has the
 * platform register its public half through the bootstrap function, which `invoke` calls
 * (Lambda Invoke on AWS, the local runtime's host locally). Repeating it with the same key file
 * changes nothing; the platform refuses a different key unless `rotate` is set, which makes a
 * new key, has it replace every other operator key, and keeps the old key file aside.
 */
export async function bootstrapOperator(
  keysDir: string,
  invoke: (payload: unknown) => Promise<unknown>,
  options: { rotate?: boolean } = {},
): Promise<{ identity: IdentityFile; keyFile: string; previousKeyFile?: string }> {
  const keyFile = identityPath(keysDir, OPERATOR_SYSTEM);
  if (!options.rotate) {
    const identity = await ensureIdentity(keysDir, OPERATOR_SYSTEM);
    await invoke({ operatorKey: { kid: identity.kid, jwk: identity.publicJwk } });
    return { identity, keyFile };
  }
  const fresh = await generateIdentity(OPERATOR_SYSTEM);
  await invoke({ operatorKey: { kid: fresh.kid, jwk: fresh.publicJwk }, rotate: true });
  // Only once the platform holds the new key does the old file step aside.
  let previousKeyFile: string | undefined;
  if (existsSync(keyFile)) {
    previousKeyFile = join(keysDir, `${OPERATOR_SYSTEM}.${loadIdentity(keyFile).kid}.json`);
    renameSync(keyFile, previousKeyFile);
  }
  saveIdentity(keysDir, fresh);
  return { identity: fresh, keyFile, ...(previousKeyFile ? { previousKeyFile } : {}) };
}
