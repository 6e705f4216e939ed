import type { CallerSettings } from "./json-caller.ts";
import type { AwsCredentials } from "./sigv4.ts";

/** The part of an SDK client's configuration the lean path honours; anything else sends through the SDK. */
export interface LeanConfig {
  readonly endpoint?: unknown;
  readonly region?: unknown;
  readonly credentials?: unknown;
  readonly maxAttempts?: unknown;
  readonly retryMode?: unknown;
  readonly retryStrategy?: unknown;
  readonly requestHandler?: unknown;
  readonly useFipsEndpoint?: unknown;
  readonly useDualstackEndpoint?: unknown;
  readonly customUserAgent?: unknown;
  readonly userAgentAppId?: unknown;
}

function isStaticCredentials(value: unknown): value is AwsCredentials {
  const candidate = value as Partial<AwsCredentials> | undefined;
  return typeof candidate?.accessKeyId === "string" && typeof candidate.secretAccessKey === "string";
}

/** `us-east-1` → `amazonaws.com`, `cn-north-1` → `amazonaws.com.cn`; other partitions are the SDK's to resolve. */
function dnsSuffix(region: string): string | undefined {
  if (/^cn-[a-z]+-\d+$/.test(region)) return "amazonaws.com.cn";
  if (/^(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d+$/.test(region)) return "amazonaws.com";
  return undefined;
}

/**
 * Where and as whom the lean path of a client sends, as the SDK would resolve it from the same
 * configuration and environment; undefined when the configuration asks for something only the
 * SDK does (a credential provider, a custom handler or retry strategy, FIPS or dual-stack
 * endpoints, account-based DynamoDB endpoints, another partition), so that client sends
 * every command through the SDK.
 *
 * Credentials are read once, when a client first sends. Lambda sets `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` when it starts an execution environment and
 * never changes them while the environment lives (a new environment gets new ones, valid for its
 * life); the SDK's default provider chain likewise keeps environment credentials for the
 * client's lifetime once read.
 */
export function callerSettings(
  service: { readonly name: string; readonly envName: string; readonly defaultMaxAttempts: number },
  config: LeanConfig,
  env: NodeJS.ProcessEnv = process.env,
): CallerSettings | undefined {
  if (config.requestHandler !== undefined || config.retryStrategy !== undefined) return undefined;
  if (config.customUserAgent !== undefined) return undefined;
  const retryMode = config.retryMode ?? env.AWS_RETRY_MODE;
  if (retryMode !== undefined && retryMode !== "standard") return undefined;
  if (config.useFipsEndpoint === true || config.useDualstackEndpoint === true) return undefined;
  if (env.AWS_USE_FIPS_ENDPOINT === "true" || env.AWS_USE_DUALSTACK_ENDPOINT === "true") return undefined;

  const region = config.region ?? env.AWS_REGION;
  if (typeof region !== "string" || region.length === 0) return undefined;

  let credentials: AwsCredentials;
  if (config.credentials === undefined) {
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) return undefined;
    const sessionToken = env.AWS_SESSION_TOKEN;
    credentials = sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
  } else if (isStaticCredentials(config.credentials)) {
    credentials = config.credentials;
  } else return undefined;

  let endpoint: URL | undefined;
  if (config.endpoint !== undefined) {
    if (typeof config.endpoint !== "string" || !URL.canParse(config.endpoint)) return undefined;
    endpoint = new URL(config.endpoint);
  } else if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS !== "true") {
    const configured = env[`AWS_ENDPOINT_URL_${service.envName}`] || env.AWS_ENDPOINT_URL;
    if (configured) {
      if (!URL.canParse(configured)) return undefined;
      endpoint = new URL(configured);
    }
  }
  if (!endpoint) {
    // DynamoDB routes to an account's own endpoint when the credentials name the account.
    if (service.name === "dynamodb" && env.AWS_ACCOUNT_ID) return undefined;
    const suffix = dnsSuffix(region);
    if (!suffix) return undefined;
    endpoint = new URL(`https://${service.name}.${region}.${suffix}/`);
  }

  const configuredAttempts = config.maxAttempts ?? (env.AWS_MAX_ATTEMPTS ? Number(env.AWS_MAX_ATTEMPTS) : undefined);
  if (configuredAttempts !== undefined && (typeof configuredAttempts !== "number" || !(configuredAttempts >= 1)))
    return undefined;
  const appId = typeof config.userAgentAppId === "string" ? config.userAgentAppId : env.AWS_SDK_UA_APP_ID;
  return {
    endpoint,
    region,
    credentials,
    maxAttempts: configuredAttempts ?? service.defaultMaxAttempts,
    ...(appId ? { appId } : {}),
  };
}
