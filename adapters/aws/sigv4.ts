import { createHash, createHmac } from "node:crypto";

/** AWS credentials as Lambda provides them in its environment. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** What a signature is scoped to. */
export interface SigningScope {
  readonly region: string;
  readonly service: string;
}

/** A request to sign: header names in any case, values as sent. */
export interface RequestToSign {
  readonly method: string;
  /** The URI-encoded path (`/` for the JSON protocol). */
  readonly path: string;
  /** The canonical query string (parameters sorted and encoded), `""` when there is none. */
  readonly query?: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body. */
  readonly payloadHash: string;
  readonly credentials: AwsCredentials;
  readonly scope: SigningScope;
  readonly date: Date;
}

/** A signed request's `Authorization` header and the parts it is made of. */
export interface Signature {
  readonly authorization: string;
  readonly signedHeaders: string;
  readonly signature: string;
}

export const EMPTY_PAYLOAD_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

export function sha256Hex(body: string | Uint8Array): string {
  return createHash("sha256").update(body).digest("hex");
}

/** `20150830T123600Z`, the form of `X-Amz-Date`. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, "");
}

/**
 * Signing keys by secret, day, region and service. A key is four HMACs and changes once a day,
 * so it is derived once per day and scope instead of per request; the map holds one entry per
 * scope a process uses (two or three), replaced when the day changes.
 */
const signingKeys = new Map<string, { readonly day: string; readonly key: Buffer }>();

function signingKey(secret: string, day: string, scope: SigningScope): Buffer {
  const cacheKey = `${scope.region}/${scope.service}/${secret}`;
  const cached = signingKeys.get(cacheKey);
  if (cached?.day === day) return cached.key;
  const dateKey = hmac(`AWS4${secret}`, day);
  const key = hmac(hmac(hmac(dateKey, scope.region), scope.service), "aws4_request");
  signingKeys.set(cacheKey, { day, key });
  return key;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/**
 * Signs a request with AWS Signature Version 4 (header form): every header given is signed, so
 * pass only those the request sends (including `host` and `x-amz-date`, and
 * `x-amz-security-token` with temporary credentials).
 */
export function signRequest(request: RequestToSign): Signature {
  const headers = Object.entries(request.headers)
    .map(([name, value]) => [name.toLowerCase(), value.trim().replace(/\s+/g, " ")] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = headers.map(([name]) => name).join(";");
  const canonicalRequest = [
    request.method.toUpperCase(),
    request.path,
    request.query ?? "",
    ...headers.map(([name, value]) => `${name}:${value}`),
    "",
    signedHeaders,
    request.payloadHash,
  ].join("\n");
  const timestamp = amzDate(request.date);
  const day = timestamp.slice(0, 8);
  const credentialScope = `${day}/${request.scope.region}/${request.scope.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", timestamp, credentialScope, sha256Hex(canonicalRequest)].join("\n");
  const signature = createHmac("sha256", signingKey(request.credentials.secretAccessKey, day, request.scope))
    .update(stringToSign, "utf8")
    .digest("hex");
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=${request.credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    signedHeaders,
    signature,
  };
}
