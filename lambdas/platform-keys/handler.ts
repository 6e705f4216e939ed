import { kmsSigner } from "../../adapters/kms/kms-signer.ts";
import { platformJwk } from "../../domain/identity/platform-token.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { httpHandler } from "../shared/http.ts";
import { platformKeysEnvironment } from "./environment.ts";

const environment = lazyEnvironment(platformKeysEnvironment);
let keySet: Promise<{ keys: Record<string, string>[] }> | undefined;

/**
 * `GET /v1/platform/keys`: the public key providers verify the platform's calls with (it
 * certifies the environment keys that sign them), and export packages and checkpoints. Its own
 * function, so providers fetching it while exchanges wait on them never queue behind those.
 */
export const handler = httpHandler(async () => {
  keySet ??= platformJwk(kmsSigner(environment().PLATFORM_KEY_ID)).then((jwk) => ({ keys: [jwk] }));
  return { status: 200, body: await keySet, headers: { "Cache-Control": "public, max-age=300" } };
});
