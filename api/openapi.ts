import * as z from "zod/mini";
import { PATH_PARAMETERS } from "../domain/identifiers.ts";
import { OPERATIONS } from "./operations.ts";
import { problemDetails } from "./responses.ts";
import { isSigned, type Operation } from "./route.ts";

type Json = Record<string, unknown>;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "The request is invalid; `invalidParams` names every offending field",
  401: "No valid request token; the problem type names why (urn:dscp:problem:auth:…)",
  403: "Authenticated but not allowed; the problem type names why",
  404: "No such resource",
  415: "The body is not sent as `application/json` (charset allowed)",
  409: "Conflicts with the current state (taken id, already decided, already revoked)",
  422: "Understood but refused by a rule of the decree (e.g. secret data, Art. 9.3)",
  500: "Unexpected failure; reveals nothing but the transaction id",
  502: "The provider's system failed",
  503: "A dependency of the platform is unavailable (e.g. the exchange log); nothing was returned",
  504: "The provider did not answer in time",
};

const REQUEST_TOKEN = `A JWT signed with the calling system's registered private key (EdDSA/Ed25519 or ES256). Header \`kid\`: the registered key. Claims: \`iss\` = \`sub\` = the system id; \`aud\` = the platform's audience (stack output \`PlatformAudience\`); \`iat\`/\`exp\` at most five minutes apart; a unique \`jti\` (refused if seen again); \`htm\` = the method; \`htu\` = the path below the API base with the query sorted; \`bdy\` = base64url SHA-256 of the body, when there is one.`;

export interface OpenApiOptions {
  readonly version: string;
}

/**
 * The OpenAPI 3.1 document of the API, built from the route tables and the very schemas the
 * handlers validate with. `npm run openapi` writes it to `api/openapi.json`; the platform serves
 * that file at `GET /v1/openapi.json`.
 */
export function openApiDocument(options: OpenApiOptions): Json {
  const inputs = z.registry<{ id: string }>();
  const outputs = z.registry<{ id: string }>();
  outputs.add(problemDetails, { id: "ProblemDetails" });
  for (const operation of OPERATIONS) {
    if (operation.body) register(inputs, operation.body.name, operation.body.schema);
    if ("name" in operation.success.schema) {
      register(outputs, operation.success.schema.name, operation.success.schema.schema);
    }
  }
  const convert = (registry: typeof inputs, io: "input" | "output") =>
    (
      z.toJSONSchema(registry, {
        io,
        target: "draft-2020-12",
        unrepresentable: "any",
        uri: (id) => `#/components/schemas/${id}`,
      }) as { schemas: Record<string, Json> }
    ).schemas;
  const schemas = {
    ...tidy(convert(inputs, "input"), false),
    // Responses may gain members over time: clients must not refuse unknown ones.
    ...tidy(convert(outputs, "output"), true),
  };

  const paths: Record<string, Record<string, Json>> = {};
  for (const operation of OPERATIONS) {
    paths[operation.path] ??= {};
    (paths[operation.path] as Record<string, Json>)[operation.method.toLowerCase()] = describe(operation);
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "DSCP — Data Sharing and Coordination Platform",
      version: options.version,
      summary: "Mandatory data connection and sharing among state agencies",
      description:
        "Every agency's information system connects through one platform that authenticates, authorises, validates, delivers and logs every exchange. Every error is an RFC 9457 problem (`application/problem+json`) whose `type` is a stable `urn:dscp:problem:…`; every response carries `X-Transaction-Id`.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    servers: [
      {
        url: "{apiUrl}",
        description: "The API stage's base URL (stack output `ApiUrl`)",
        variables: { apiUrl: { default: "http://127.0.0.1:3000/_aws/execute-api/local/local" } },
      },
    ],
    tags: [...new Set(OPERATIONS.map((operation) => operation.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        requestToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: REQUEST_TOKEN },
      },
      headers: {
        TransactionId: {
          description: "Names this request in the exchange log and in the platform's logs",
          schema: { type: "string" },
        },
      },
    },
  };
}

function register(registry: z.core.$ZodRegistry<{ id: string }>, id: string, schema: z.ZodMiniType): void {
  const existing = registry.get(schema);
  if (existing && existing.id !== id) throw new Error(`one schema registered as ${existing.id} and ${id}`);
  if (!existing) registry.add(schema, { id });
}

/** Components without the standalone-document members, and responses open to additions. */
function tidy(schemas: Record<string, Json>, open: boolean): Record<string, Json> {
  const clean = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(clean);
    if (typeof value !== "object" || value === null) return value;
    const result: Json = {};
    for (const [key, member] of Object.entries(value)) {
      if (key === "$schema" || key === "$id") continue;
      if (open && key === "additionalProperties" && member === false) continue;
      result[key] = clean(member);
    }
    return result;
  };
  return Object.fromEntries(Object.entries(schemas).map(([name, schema]) => [name, clean(schema) as Json]));
}

function describe(operation: Operation): Json {
  const parameters = [
    ...[...operation.path.matchAll(/\{([^}]+)\}/g)].map((match) => ({
      name: match[1],
      in: "path",
      required: true,
      schema: pathParameterSchema(match[1] as string),
    })),
    ...(operation.query ?? []).flatMap(queryParameters),
  ];
  const success = operation.success.schema;
  const problem = { "application/problem+json": { schema: { $ref: "#/components/schemas/ProblemDetails" } } };
  const transactionId = { "X-Transaction-Id": { $ref: "#/components/headers/TransactionId" } };
  return {
    operationId: operation.operationId,
    tags: [operation.tag],
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    security: isSigned(operation) ? [{ requestToken: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: { $ref: `#/components/schemas/${operation.body.name}` } } },
          },
        }
      : {}),
    responses: {
      [operation.success.status]: {
        description: operation.success.description,
        headers: transactionId,
        content: {
          "application/json": {
            schema: "name" in success ? { $ref: `#/components/schemas/${success.name}` } : success.inline,
          },
          ...(operation.cacheable?.csv ? { "text/csv": { schema: { type: "string" } } } : {}),
        },
        ...(operation.cacheable ? { headers: { ...transactionId, ETag: { schema: { type: "string" } } } } : {}),
      },
      ...(operation.cacheable
        ? {
            304: {
              description: "Not modified: the If-None-Match header named the current ETag",
              headers: transactionId,
            },
          }
        : {}),
      ...Object.fromEntries(
        [...operation.problems, ...(operation.body ? [415] : []), 500]
          .sort((a, b) => a - b)
          .map((status) => [
            status,
            { description: STATUS_TEXT[status] ?? "Problem", headers: transactionId, content: problem },
          ]),
      ),
    },
  };
}

/** The schema every request's path parameter of this name is checked against. */
function pathParameterSchema(name: string): Json {
  const schema = PATH_PARAMETERS[name];
  if (!schema) throw new Error(`path parameter ${name} has no schema in domain/identifiers.ts`);
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
  return rest;
}

/** Each property of a query schema as one query parameter. */
function queryParameters(schema: z.ZodMiniObject): Json[] {
  const converted = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(converted.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return {
      name,
      in: "query",
      required: converted.required?.includes(name) ?? false,
      ...(typeof description === "string" ? { description } : {}),
      schema: rest,
    };
  });
}
