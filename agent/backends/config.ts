import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { BackendConfigError } from "./types.ts";

/*
 * One backend entry of the node's LOCAL file: where a PostgreSQL database or a REST service is,
 * and how to authenticate to it. Secrets are never written in the file: a password or a header
 * value is named as `env:NAME` (or `passwordEnv: NAME`) and read from the node's environment when
 * the backend is created, so the file can be shared, versioned and shown.
 */

// zod/mini ships no messages: English, as domain/validation.ts does for the platform.
z.config(en());

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const ENV_REFERENCE = /^env:([A-Za-z_][A-Za-z0-9_]{0,127})$/;

const envName = z.string().check(z.regex(ENV_NAME, "must name an environment variable (letters, digits, '_')"));

const sqlBackend = z
  .object({
    type: z.literal("sql"),
    host: z.string().check(z.minLength(1), z.maxLength(255)),
    port: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(65_535)), 5432),
    database: z.string().check(z.minLength(1), z.maxLength(63)),
    user: z.string().check(z.minLength(1), z.maxLength(63)),
    /** The environment variable holding the password. */
    passwordEnv: z.optional(envName),
    /** The same, written `env:NAME`; a literal password is refused. */
    password: z.optional(
      z
        .string()
        .check(
          z.regex(
            ENV_REFERENCE,
            "must be env:NAME (the password is read from that environment variable, never the file)",
          ),
        ),
    ),
    /** TLS to the database; `{ rejectUnauthorized: false }` only for a self-signed test server. */
    ssl: z.optional(z.union([z.boolean(), z.object({ rejectUnauthorized: z.optional(z.boolean()) })])),
    /** Connections the node opens at most. @default 10 */
    poolMax: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(200))),
    /** PostgreSQL's statement_timeout on every connection. @default 5000 */
    statementTimeoutMs: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(600_000))),
  })
  .check(
    z.refine((backend) => !(backend.password && backend.passwordEnv), {
      message: "give the password as passwordEnv or as password: env:NAME, not both",
      path: ["password"],
    }),
  );

const restBackend = z.object({
  type: z.literal("rest"),
  baseUrl: z.url({ protocol: /^https?$/, error: "must be an http or https URL" }).check(z.maxLength(2000)),
  /** Sent with every call; a value `env:NAME` is read from the environment (credentials). */
  headers: z.optional(
    z.record(
      z.string().check(z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, "must be an HTTP header name")),
      z.string().check(z.maxLength(8000)),
    ),
  ),
  /** Per call. @default 10000 */
  timeoutMs: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(120_000))),
});

/** One backend entry of the node's local file, by its `type`. */
export const localBackend = z.discriminatedUnion("type", [sqlBackend, restBackend]);
export type LocalBackend = z.infer<typeof localBackend>;
export type SqlBackendConfig = Extract<LocalBackend, { type: "sql" }>;
export type RestBackendConfig = Extract<LocalBackend, { type: "rest" }>;

/**
 * Parses the entry of backend `name`, or throws a {@link BackendConfigError} naming the first
 * offending setting (`backends.<name>.<path>`) and every problem found.
 */
export function parseLocalBackend(name: string, value: unknown): LocalBackend {
  const result = localBackend.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    setting: [`backends.${name}`, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  const first = problems[0] ?? { setting: `backends.${name}`, message: "is invalid" };
  const rest = problems.slice(1).map((problem) => `; ${problem.setting}: ${problem.message}`);
  throw new BackendConfigError(first.setting, `${first.message}${rest.join("")}`);
}

/**
 * A value of the file that may be `env:NAME`: that variable's value (missing or empty is a
 * {@link BackendConfigError} naming `setting`), or the value itself.
 */
export function resolveSecret(value: string, setting: string, env: NodeJS.ProcessEnv = process.env): string {
  const reference = ENV_REFERENCE.exec(value);
  if (!reference) return value;
  return fromEnv(reference[1] as string, setting, env);
}

/** The password of a SQL backend, from the environment variable it names; undefined when none is named. */
export function sqlPassword(
  name: string,
  config: SqlBackendConfig,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (config.passwordEnv) return fromEnv(config.passwordEnv, `backends.${name}.passwordEnv`, env);
  if (config.password) return resolveSecret(config.password, `backends.${name}.password`, env);
  return undefined;
}

/** Where a served dataset's settings are, for errors: `serves[<datasetId>]` (its place in the central configuration). */
export function servedSetting(dataset: { readonly datasetId: string }): string {
  return `serves[${dataset.datasetId}]`;
}

function fromEnv(variable: string, setting: string, env: NodeJS.ProcessEnv): string {
  const value = env[variable];
  if (value === undefined || value === "") {
    throw new BackendConfigError(setting, `environment variable ${variable} is not set`);
  }
  return value;
}
