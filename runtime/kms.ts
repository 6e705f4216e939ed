import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** An asymmetric signing key the template declares (`KeyUsage: SIGN_VERIFY`). */
export interface SigningKeyDefinition {
  readonly keyId: string;
  readonly arn: string;
  readonly keySpec: string;
}

const CURVES: Record<string, { curve: string; algorithm: string; hash: string }> = {
  ECC_NIST_P256: { curve: "prime256v1", algorithm: "ECDSA_SHA_256", hash: "sha256" },
  ECC_NIST_P384: { curve: "secp384r1", algorithm: "ECDSA_SHA_384", hash: "sha384" },
};

/** Thrown with KMS's own error codes. */
export class KmsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The part of KMS that asymmetric signing keys need — Sign, Verify, GetPublicKey, DescribeKey —
 * with each key's private half generated once and kept in the data folder, so signatures made
 * before a restart still verify after it. Symmetric encryption stays unemulated (no encryption at
 * rest locally).
 */
export class KmsEmulator {
  private readonly keys = new Map<string, { definition: SigningKeyDefinition; privateKey: KeyObject }>();

  constructor(definitions: readonly SigningKeyDefinition[], directory: string) {
    mkdirSync(directory, { recursive: true });
    for (const definition of definitions) {
      const spec = CURVES[definition.keySpec];
      if (!spec) throw new KmsError("UnsupportedOperationException", `key spec ${definition.keySpec} is not emulated`);
      const file = join(directory, `${definition.keyId}.pem`);
      if (!existsSync(file)) {
        const { privateKey } = generateKeyPairSync("ec", { namedCurve: spec.curve });
        writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
      }
      const entry = { definition, privateKey: createPrivateKey(readFileSync(file)) };
      this.keys.set(definition.keyId, entry);
      this.keys.set(definition.arn, entry);
    }
  }

  /** Answers one KMS JSON-protocol operation. */
  handle(operation: string, input: Record<string, unknown>): Record<string, unknown> {
    const entry = this.keys.get(String(input.KeyId ?? ""));
    if (!entry) throw new KmsError("NotFoundException", `Key '${String(input.KeyId)}' does not exist`);
    const { definition, privateKey } = entry;
    const spec = CURVES[definition.keySpec] as (typeof CURVES)[string];
    const metadata = { KeyId: definition.arn, SigningAlgorithm: spec.algorithm };
    switch (operation) {
      case "Sign": {
        this.checkSigning(input, spec.algorithm);
        const signature = sign(spec.hash, Buffer.from(String(input.Message), "base64"), privateKey);
        return { ...metadata, Signature: signature.toString("base64") };
      }
      case "Verify": {
        this.checkSigning(input, spec.algorithm);
        const valid = verify(
          spec.hash,
          Buffer.from(String(input.Message), "base64"),
          createPublicKey(privateKey),
          Buffer.from(String(input.Signature), "base64"),
        );
        if (!valid) throw new KmsError("KMSInvalidSignatureException", "signature is not valid");
        return { ...metadata, SignatureValid: true };
      }
      case "GetPublicKey":
        return {
          KeyId: definition.arn,
          KeySpec: definition.keySpec,
          KeyUsage: "SIGN_VERIFY",
          SigningAlgorithms: [spec.algorithm],
          PublicKey: createPublicKey(privateKey).export({ type: "spki", format: "der" }).toString("base64"),
        };
      case "DescribeKey":
        return {
          KeyMetadata: {
            KeyId: definition.keyId,
            Arn: definition.arn,
            KeySpec: definition.keySpec,
            KeyUsage: "SIGN_VERIFY",
            KeyState: "Enabled",
            Enabled: true,
            SigningAlgorithms: [spec.algorithm],
          },
        };
      default:
        throw new KmsError("UnsupportedOperationException", `${operation} is not emulated by the local runtime`);
    }
  }

  private checkSigning(input: Record<string, unknown>, algorithm: string): void {
    if (input.SigningAlgorithm !== algorithm) {
      throw new KmsError("InvalidKeyUsageException", `this key signs with ${algorithm}`);
    }
    if (input.MessageType === "DIGEST") {
      // Node.js cannot sign a precomputed digest with ECDSA; callers send the message itself.
      throw new KmsError("UnsupportedOperationException", "MessageType DIGEST is not emulated; send RAW");
    }
  }
}
