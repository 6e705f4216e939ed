import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { type LocalBackend, localBackend } from "./backends/config.ts";

// zod/mini ships no messages; English names every broken rule in the node's start-up errors.
z.config(en());

/*
 * The node's LOCAL configuration file (JSON): how it reaches the platform and with which key,
 * where its internal clients and the platform reach it, and its backends with their secrets.
 * What it serves and calls is configured centrally (domain/agent/config.ts); only this file holds
 * secrets, directly or as `env:NAME` references resolved from the environment at load time.
 */

const port = z.number().check(z.int(), z.minimum(0), z.maximum(65535));
const host = z.string().check(z.minLength(1), z.maxLength(253));
const url = z.string().check(z.regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL"));
const path = z.string().check(z.minLength(1));
const name = z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "must be a name of letters, digits, . _ -"));

const tls = z.object({
  /** PEM certificate file of this listener. */
  cert: path,
  /** PEM private key file. */
  key: path,
});

const consumerClient = z
  .object({
    name,
    /** Hex SHA-256 of the client's API key, sent as `Authorization: Bearer <key>` or `X-API-Key`. */
    apiKeySha256: z.optional(z.string().check(z.regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex characters"))),
    /** With mTLS: the common name (CN) of the client's certificate subject. */
    certificateSubject: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  })
  .check(
    z.refine((client) => client.apiKeySha256 !== undefined || client.certificateSubject !== undefined, {
      message: "needs apiKeySha256 or certificateSubject",
    }),
  );

export const localConfig = z.object({
  platform: z.object({
    /** Base URL of the platform's API stage (the `ApiUrl` output). */
    apiUrl: url,
    /** The platform's audience (the `PlatformAudience` output): `aud` of the node's tokens. */
    audience: z.string().check(z.minLength(1)),
    /** `iss` of the platform's tokens. @default audience */
    issuer: z.optional(z.string().check(z.minLength(1))),
    /** The system this node is registered as. */
    systemId: z.string().check(z.regex(/^[A-Z0-9][A-Z0-9._-]{2,199}$/, "must be a system id such as MPS.POPULATION")),
    /** The node's key file (`dscp-agent keygen`), relative to this file. */
    keyFile: path,
    /**
     * Key ids the platform has accepted: the node signs with the newest of them in its key file.
     * @default the oldest key in the file (the one registered at enrolment)
     */
    kids: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  }),
  consumer: z._default(
    z.object({
      host: z._default(host, "127.0.0.1"),
      port: z._default(port, 8080),
      clients: z._default(z.array(consumerClient), []),
      /** mTLS: this listener's certificate, and the CA that issues clients' certificates. */
      tls: z.optional(z.object({ ...tls.shape, clientCa: path })),
    }),
    { host: "127.0.0.1", port: 8080, clients: [] },
  ),
  provider: z._default(
    z.object({
      host: z._default(host, "0.0.0.0"),
      port: z._default(port, 8443),
      /** The path of the system's registered endpoint, when it has one (`https://node.example/dscp` → `/dscp`). */
      basePath: z._default(
        z.string().check(z.regex(/^(\/[A-Za-z0-9._~-]+)*$/, "must be empty or an absolute path without a trailing /")),
        "",
      ),
      tls: z.optional(tls),
    }),
    { host: "0.0.0.0", port: 8443, basePath: "" },
  ),
  backends: z._default(z.record(name, z.unknown()), {}),
  ops: z._default(z.object({ host: z._default(host, "127.0.0.1"), port: z._default(port, 9090) }), {
    host: "127.0.0.1",
    port: 9090,
  }),
  logLevel: z._default(z.enum(["debug", "info", "warn", "error", "silent"]), "info"),
});

export type LocalConfig = Omit<z.infer<typeof localConfig>, "backends"> & {
  readonly backends: Readonly<Record<string, LocalBackend>>;
};
export type LogLevel = LocalConfig["logLevel"];

/** One invalid setting: its path in the file (`consumer.clients[1].apiKeySha256`) and what is wrong. */
export interface SettingProblem {
  readonly setting: string;
  readonly message: string;
}

/** The local configuration is invalid: every offending setting is named. */
export class LocalConfigError extends Error {
  override readonly name = "LocalConfigError";
  constructor(
    readonly problems: readonly SettingProblem[],
    options?: ErrorOptions,
  ) {
    super(
      `invalid node configuration:\n${problems.map((problem) => `  ${problem.setting}: ${problem.message}`).join("\n")}`,
      options,
    );
  }
}

/** `consumer.clients[1].apiKeySha256` from a zod issue path. */
export function settingName(path: readonly PropertyKey[]): string {
  const name = path.reduce<string>((text, part) => {
    if (typeof part === "number") return `${text}[${part}]`;
    return text ? `${text}.${String(part)}` : String(part);
  }, "");
  return name || "(file)";
}

/** Reads and validates the node's file; relative file paths in it are taken from the file's folder. */
export function loadLocalConfig(file: string, env: NodeJS.ProcessEnv = process.env): LocalConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new LocalConfigError([{ setting: "(file)", message: `cannot read ${file}: ${(error as Error).message}` }], {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LocalConfigError([{ setting: "(file)", message: `${file} is not JSON: ${(error as Error).message}` }], {
      cause: error,
    });
  }
  return parseLocalConfig(value, { env, baseDir: dirname(resolve(file)) });
}

/** Validates a parsed configuration, resolving `env:NAME` references and relative paths. */
export function parseLocalConfig(
  value: unknown,
  options: { env?: NodeJS.ProcessEnv; baseDir?: string } = {},
): LocalConfig {
  const env = options.env ?? process.env;
  const problems: SettingProblem[] = [];
  const resolved = resolveReferences(value, [], env, problems);
  const result = localConfig.safeParse(resolved);
  if (!result.success) {
    // A setting whose variable is missing is named once, for that.
    const unresolved = new Set(problems.map((problem) => problem.setting));
    problems.push(
      ...result.error.issues
        .map((issue) => ({ setting: settingName(issue.path), message: issue.message }))
        .filter((problem) => !unresolved.has(problem.setting)),
    );
  }
  const backends: Record<string, LocalBackend> = {};
  if (result.success) {
    for (const [backendName, entry] of Object.entries(result.data.backends)) {
      const backend = localBackend.safeParse(entry);
      if (backend.success) backends[backendName] = backend.data;
      else {
        problems.push(
          ...backend.error.issues.map((issue) => ({
            setting: settingName(["backends", backendName, ...issue.path]),
            message: issue.message,
          })),
        );
      }
    }
    problems.push(...consumerProblems(result.data.consumer));
  }
  if (!result.success || problems.length > 0) throw new LocalConfigError(problems);
  const config = result.data;
  const file = (relative: string) => resolve(options.baseDir ?? process.cwd(), relative);
  return {
    ...config,
    platform: { ...config.platform, keyFile: file(config.platform.keyFile) },
    consumer: {
      ...config.consumer,
      ...(config.consumer.tls
        ? {
            tls: {
              cert: file(config.consumer.tls.cert),
              key: file(config.consumer.tls.key),
              clientCa: file(config.consumer.tls.clientCa),
            },
          }
        : {}),
    },
    provider: {
      ...config.provider,
      ...(config.provider.tls
        ? { tls: { cert: file(config.provider.tls.cert), key: file(config.provider.tls.key) } }
        : {}),
    },
    backends,
  };
}

/** What a consistent consumer section needs beyond each field's own rules. */
function consumerProblems(consumer: z.infer<typeof localConfig>["consumer"]): SettingProblem[] {
  const problems: SettingProblem[] = [];
  const seen = new Set<string>();
  consumer.clients.forEach((client, index) => {
    if (seen.has(client.name)) {
      problems.push({ setting: `consumer.clients[${index}].name`, message: `${client.name} is named twice` });
    }
    seen.add(client.name);
    if (client.certificateSubject !== undefined && !consumer.tls) {
      problems.push({
        setting: `consumer.clients[${index}].certificateSubject`,
        message: "needs consumer.tls (mTLS) to be configured",
      });
    }
  });
  return problems;
}

const REFERENCE = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/**
 * The value with every `env:NAME` string replaced by that environment variable, except inside
 * `backends` (each backend resolves its own references, Contract 3). A missing variable is a
 * problem naming the setting.
 */
function resolveReferences(
  value: unknown,
  at: readonly PropertyKey[],
  env: NodeJS.ProcessEnv,
  problems: SettingProblem[],
): unknown {
  if (at.length === 1 && at[0] === "backends") return value;
  if (typeof value === "string") {
    const reference = REFERENCE.exec(value);
    if (!reference) return value;
    const variable = reference[1] as string;
    const found = env[variable];
    if (found === undefined) {
      problems.push({ setting: settingName(at), message: `environment variable ${variable} is not set` });
      return value;
    }
    return found;
  }
  if (Array.isArray(value)) return value.map((item, index) => resolveReferences(item, [...at, index], env, problems));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveReferences(item, [...at, key], env, problems)]),
    );
  }
  return value;
}
