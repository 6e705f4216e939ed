import { GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import type { PlatformSigner } from "../../domain/identity/platform-token.ts";

let client: KMSClient | undefined;

/** The platform's signing key in KMS (ECC_NIST_P256): the private half never leaves it. */
export function kmsSigner(keyId: string): PlatformSigner {
  client ??= new KMSClient({});
  let publicKey: Promise<Uint8Array> | undefined;
  const kms = client;
  return {
    keyId,
    async sign(message) {
      const { Signature } = await kms.send(
        new SignCommand({ KeyId: keyId, Message: message, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" }),
      );
      if (!Signature) throw new Error("KMS returned no signature");
      return Signature;
    },
    publicKey() {
      publicKey ??= kms.send(new GetPublicKeyCommand({ KeyId: keyId })).then(({ PublicKey }) => {
        if (!PublicKey) throw new Error("KMS returned no public key");
        return PublicKey;
      });
      return publicKey;
    },
  };
}
