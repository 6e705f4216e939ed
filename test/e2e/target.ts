import { inject } from "vitest";
import { type IdentityFile, loadIdentity } from "../../client/identity-files.ts";
import { platformOutputs } from "../../client/outputs.ts";

/** The deployment under test, found from its stack outputs. */
export interface Target {
  /** The `aud` request tokens name. */
  readonly audience: string;
  /** The operator's signing identity (system NDC.OPERATOR). */
  readonly operator: IdentityFile;
  /** Base URL of the API stage, ending in `/`. */
  readonly apiUrl: string;
  readonly stage: string;
  readonly outputs: Readonly<Record<string, string>>;
}

/**
 * Reads the platform's outputs, from all of its stacks. With `DSCP_TARGET=localstack`, the API URL is built the
 * way LocalStack serves REST APIs (`<endpoint>/_aws/execute-api/<apiId>/<stage>/`), since its
 * `ApiUrl` output names a host that needs LocalStack's DNS.
 */
export function target(): Target {
  const outputs = platformOutputs(inject("dscpOutputs"));
  if (!outputs.ApiUrl || !outputs.ApiId) throw new Error("no stack in the outputs file has ApiUrl and ApiId outputs");
  const stage = String(outputs.ApiStage);
  const apiUrl =
    process.env.DSCP_TARGET === "localstack"
      ? `${(process.env.AWS_ENDPOINT_URL ?? "http://127.0.0.1:4566").replace(/\/$/, "")}/_aws/execute-api/${outputs.ApiId}/${stage}/`
      : String(outputs.ApiUrl);
  return {
    apiUrl: apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`,
    stage,
    outputs,
    audience: String(outputs.PlatformAudience),
    operator: loadIdentity(inject("operatorKeyFile")),
  };
}
