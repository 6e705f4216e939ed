import * as z from "zod/mini";
import { baseEnvironment, nonEmpty } from "../shared/environment.ts";

/** Environment contract of a function that reads and writes the registry (the registry function, the bootstrap). */
export const registryEnvironment = z.extend(baseEnvironment, {
  REGISTRY_TABLE_NAME: nonEmpty(),
});

/**
 * Environment contract of the registry function: the registry, and the platform's signing key
 * and identity, with which it signs Agent Node configurations as the platform signs its calls.
 */
export const registryFunctionEnvironment = z.extend(registryEnvironment, {
  /** The platform's signing key in KMS: it certifies the environment key that signs configurations. */
  PLATFORM_KEY_ID: nonEmpty(),
  /** The platform's identity in what it signs (its audience). */
  PLATFORM_ISSUER: nonEmpty(),
});
