import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import { generateIdentity, identityPath, loadIdentity, saveIdentity } from "../../client/identity-files.ts";
import { type Command, UsageError, type Values } from "../command.ts";

const algOption = { alg: { type: "string", hint: "EdDSA (default) or ES256" } } as const;

/** The signature algorithm `--alg` names (EdDSA by default). */
function algOf(values: Values): "EdDSA" | "ES256" {
  const alg = String(values.alg ?? "EdDSA");
  if (alg !== "EdDSA" && alg !== "ES256") throw new UsageError("--alg must be EdDSA or ES256");
  return alg;
}

/** `dscp keygen`: a system's key pair, made here. */
export const keygen: Command = {
  name: "keygen",
  args: ["systemId"],
  summary: "Create a key pair for a system in the keys folder; prints the public key to register",
  options: {
    ...algOption,
    kid: { type: "string" },
    force: { type: "boolean", hint: "replace an existing key file" },
  },
  async run(context, [systemId], values) {
    const path = identityPath(context.keysDir(), String(systemId));
    if (existsSync(path) && !values.force) throw new UsageError(`${path} exists; --force replaces it`);
    const identity = await generateIdentity(String(systemId), algOf(values), values.kid as string | undefined);
    context.io.stderr(`wrote ${saveIdentity(context.keysDir(), identity)}\n`);
    context.print({ kid: identity.kid, jwk: identity.publicJwk });
    return 0;
  },
};

/** A registered system's keys: a new one in, an old one out. */
export const keyCommands: readonly Command[] = [
  {
    name: "keys rotate",
    args: ["systemId"],
    summary: "Register a new key for a system and switch its key file to it (the old file is kept aside)",
    options: algOption,
    async run(context, [systemId], values) {
      const directory = context.keysDir();
      const path = identityPath(directory, String(systemId));
      const client = context.client();
      const fresh = await generateIdentity(String(systemId), algOf(values));
      const key = await client.addKey(String(systemId), { kid: fresh.kid, jwk: fresh.publicJwk as never });
      if (existsSync(path)) {
        const previous = loadIdentity(path);
        const aside = join(directory, `${systemId}.${previous.kid}.json`);
        renameSync(path, aside);
        context.io.stderr(
          `previous key kept in ${aside}; revoke it with dscp keys revoke ${systemId} ${previous.kid}\n`,
        );
      }
      context.io.stderr(`wrote ${saveIdentity(directory, fresh)}\n`);
      context.print(key);
      return 0;
    },
  },
  {
    name: "keys add",
    args: ["systemId"],
    summary: "Register a public key made elsewhere (an Agent Node's dscp-agent keygen --next) for a system",
    options: {
      "public-key": { type: "string", hint: "public key file {kid, publicJwk} that dscp-agent keygen wrote" },
    },
    required: ["public-key"],
    async run(context, [systemId], values) {
      const { kid, publicJwk } = loadIdentity(context.existing(String(values["public-key"])));
      context.print(await context.client().addKey(String(systemId), { kid, jwk: publicJwk as never }));
      return 0;
    },
  },
  {
    name: "keys revoke",
    args: ["systemId", "kid"],
    summary: "Revoke a key: tokens it signs are refused from now on",
    async run(context, [systemId, kid]) {
      context.print(await context.client().revokeKey(String(systemId), String(kid)));
      return 0;
    },
  },
];
