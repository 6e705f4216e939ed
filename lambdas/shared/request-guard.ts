import type { APIGatewayProxyEvent } from "aws-lambda";
import type * as z from "zod/mini";
import { isKeyText, PATH_PARAMETERS } from "../../domain/identifiers.ts";
import { type InvalidParam, UnsupportedMediaTypeError, ValidationError } from "../../domain/problem.ts";
import { verifyBody } from "./caller.ts";

/** Most query parameters a request may carry, and the longest name and value. */
const MAX_QUERY_PARAMETERS = 32;
const MAX_QUERY_NAME_LENGTH = 64;
const MAX_QUERY_VALUE_LENGTH = 2048;
/** Longest header value a handler reads (API Gateway's own limit is 10 KiB for all of them). */
const MAX_HEADER_VALUE_LENGTH = 8192;

/** `application/json` or any `application/<x>+json`, with parameters such as `charset`. */
const JSON_MEDIA_TYPE = /^application\/(?:json|[a-z0-9!#$&^_.-]+\+json)\s*(?:;.*)?$/i;

/**
 * Checks what every route shares before any store is touched: each path parameter against the
 * format of what it names, the count, names and lengths of query parameters, header lengths, a
 * JSON media type for any body, and, on signed routes, the body against the digest the request
 * token signed. Every offending input is named; route schemas then check the rest.
 */
export function checkRequest(event: APIGatewayProxyEvent): void {
  const invalid: InvalidParam[] = [
    ...pathProblems(event.pathParameters ?? {}),
    ...queryProblems(event.multiValueQueryStringParameters ?? {}, event.queryStringParameters ?? {}),
    ...headerProblems(event.headers ?? {}),
  ];
  if (invalid.length > 0) throw new ValidationError(`${invalid.length} invalid parameter(s)`, invalid);
  if (event.body !== null && event.body !== undefined && event.body !== "") {
    const type = headerValue(event.headers ?? {}, "content-type");
    if (type === undefined || !JSON_MEDIA_TYPE.test(type)) {
      throw new UnsupportedMediaTypeError(
        `a request body must be sent as application/json, not ${type === undefined ? "without a Content-Type" : type.slice(0, 100)}`,
      );
    }
  }
  // The authoriser signed the digest on every signed route; public routes have no caller and no digest.
  if (event.requestContext?.authorizer?.systemId !== undefined) verifyBody(event);
}

function pathProblems(parameters: Readonly<Record<string, string | undefined>>): InvalidParam[] {
  return Object.entries(parameters).flatMap(([name, value]): InvalidParam[] => {
    const schema: z.ZodMiniType<string> | undefined = PATH_PARAMETERS[name];
    if (value === undefined) return [{ name, reason: "is required" }];
    if (!schema) return value.length <= 200 && isKeyText(value) ? [] : [{ name, reason: "is not a valid identifier" }];
    const result = schema.safeParse(value);
    return result.success ? [] : [{ name, reason: result.error.issues[0]?.message ?? "is not valid" }];
  });
}

function queryProblems(
  multi: Readonly<Record<string, string[] | undefined>>,
  single: Readonly<Record<string, string | undefined>>,
): InvalidParam[] {
  const names = new Set([...Object.keys(multi), ...Object.keys(single)]);
  if (names.size > MAX_QUERY_PARAMETERS) {
    return [{ name: "(query)", reason: `at most ${MAX_QUERY_PARAMETERS} query parameters` }];
  }
  const problems: InvalidParam[] = [];
  for (const name of names) {
    // Any printable name is data (`__proto__` too): handlers ignore names they do not declare.
    if (name.length > MAX_QUERY_NAME_LENGTH || !/^[!-~]+$/.test(name)) {
      problems.push({
        name: name.slice(0, MAX_QUERY_NAME_LENGTH),
        reason: `is not a query parameter of this API: at most ${MAX_QUERY_NAME_LENGTH} printable ASCII characters`,
      });
      continue;
    }
    const values = Object.hasOwn(multi, name) ? (multi[name] ?? []) : [single[name] ?? ""];
    if (values.some((value) => value.length > MAX_QUERY_VALUE_LENGTH))
      problems.push({ name, reason: `must be at most ${MAX_QUERY_VALUE_LENGTH} characters` });
    else if (!values.every(isKeyText))
      problems.push({ name, reason: "must not hold control characters or lone surrogates" });
  }
  return problems;
}

function headerProblems(headers: Readonly<Record<string, string | undefined>>): InvalidParam[] {
  return Object.entries(headers)
    .filter(([, value]) => value !== undefined && value.length > MAX_HEADER_VALUE_LENGTH)
    .map(([name]) => ({ name: name.slice(0, 64), reason: `must be at most ${MAX_HEADER_VALUE_LENGTH} characters` }));
}

function headerValue(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  return Object.entries(headers).find(([candidate]) => candidate.toLowerCase() === name)?.[1];
}
