import { ProblemError } from "../problem.ts";

/** Why a request could not be authenticated; each reason is its own problem type (401). */
export type AuthenticationFailure =
  | "unauthenticated"
  | "invalid-token"
  | "unknown-system"
  | "unknown-key"
  | "revoked-key"
  | "bad-signature"
  | "token-expired"
  | "wrong-audience"
  | "token-replayed"
  | "token-not-for-request"
  | "body-digest-mismatch"
  | "authentication-failed";

const TITLES: Record<AuthenticationFailure, string> = {
  unauthenticated: "Authentication required",
  "invalid-token": "Invalid request token",
  "unknown-system": "Unknown system",
  "unknown-key": "Unknown key",
  "revoked-key": "Revoked key",
  "bad-signature": "Bad signature",
  "token-expired": "Token expired",
  "wrong-audience": "Token for another audience",
  "token-replayed": "Token already used",
  "token-not-for-request": "Token signed for another request",
  "body-digest-mismatch": "Body does not match the token",
  "authentication-failed": "Authentication could not complete",
};

/** The caller is not who the request token says, or the token does not cover this request. */
export class AuthenticationError extends ProblemError {
  constructor(
    readonly failure: AuthenticationFailure,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(401, `auth:${failure}`, TITLES[failure], detail, [], options);
  }
}

/** A token the platform signed for an agency does not verify (at the agency's end); the message says why. */
export class PlatformTokenError extends Error {
  override readonly name = "PlatformTokenError";
}
