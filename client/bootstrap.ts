import { OPERATOR_SYSTEM } from "../domain/registry/bootstrap.ts";
import { ensureIdentity, type IdentityFile, identityPath } from "./identity-files.ts";

/**
 * Makes sure the operator has a key in `keysDir` (creating one the first time) and has the
 * platform register its public half through the bootstrap function, which `invoke` calls
 * (Lambda Invoke on AWS, the local runtime's host locally). Repeating it changes nothing.
 */
export async function bootstrapOperator(
  keysDir: string,
  invoke: (payload: unknown) => Promise<unknown>,
): Promise<{ identity: IdentityFile; keyFile: string }> {
  const identity = await ensureIdentity(keysDir, OPERATOR_SYSTEM);
  await invoke({ operatorKey: { kid: identity.kid, jwk: identity.publicJwk } });
  return { identity, keyFile: identityPath(keysDir, OPERATOR_SYSTEM) };
}
