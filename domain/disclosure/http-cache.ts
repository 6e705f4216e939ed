import { createHash } from "node:crypto";

/** How long a public disclosure answer may be kept by anyone (browsers, proxies, the portal). */
export const PUBLIC_MAX_AGE_SECONDS = 300;

/** A strong entity tag of a representation: its SHA-256, shortened. */
export function entityTag(representation: string): string {
  return `"${createHash("sha256").update(representation).digest("base64url").slice(0, 27)}"`;
}

/** Whether an `If-None-Match` header (a list, weak tags, or `*`) names the tag: the caller has it. */
export function matchesEntityTag(ifNoneMatch: string | undefined, tag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch
    .split(",")
    .map((candidate) => candidate.trim().replace(/^W\//, ""))
    .some((candidate) => candidate === "*" || candidate === tag);
}
