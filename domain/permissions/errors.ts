import { ProblemError } from "../problem.ts";

/** Why a consumer may not use a dataset the way it asked; each reason is its own 403 problem type. */
export type UseRefusal =
  | "no-permission"
  | "permission-expired"
  | "permission-not-yet-valid"
  | "permission-revoked"
  | "method-not-permitted"
  | "field-not-permitted"
  | "cross-border-not-allowed"
  | "not-a-consumer";

export class AccessRefusedError extends ProblemError {
  constructor(
    readonly refusal: UseRefusal,
    detail: string,
    invalidParams: ReadonlyArray<{ name: string; reason: string }> = [],
  ) {
    super(403, `access:${refusal}`, "Access refused", detail, invalidParams);
  }
}
