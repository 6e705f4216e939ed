import * as z from "zod/mini";
import type { HealthReport } from "../domain/health.ts";
import { type AllTrue, type Describes, instant, named } from "./responses.ts";
import { routes } from "./route.ts";

/*
 * The platform's own public routes, each served by its own function: health, this API's
 * description and the key set that verifies the platform's calls.
 */

export const health = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  stage: z.string(),
  time: instant,
  checks: z.record(
    z.string(),
    z.object({ status: z.enum(["ok", "failing"]), latencyMs: z.number(), error: z.optional(z.string()) }),
  ),
});

export const keySet = z.object({
  keys: z.array(
    z.object({ kty: z.literal("EC"), crv: z.literal("P-256"), x: z.string(), y: z.string(), kid: z.string() }),
  ),
});

/** Served by the health function. */
export const healthRoutes = routes({
  getHealth: {
    method: "GET",
    path: "/v1/health",
    tag: "Platform",
    summary: "Version, stage, time and whether the data tier answers",
    auth: {
      public:
        "GET /v1/health is public by design (design.md: every route but health, the catalog and the dictionary needs a signed token), so load balancers and status pages can call it.",
    },
    success: {
      status: 200,
      description: "Healthy (503 with the same body when degraded)",
      schema: named("Health", health),
    },
    problems: [],
  },
});

/** Served by the OpenAPI document's function. */
export const openApiRoutes = routes({
  getOpenApi: {
    method: "GET",
    path: "/v1/openapi.json",
    tag: "Platform",
    summary: "This document",
    auth: {
      public: "The API description is public by design: agencies build their clients from it before they hold a key.",
    },
    success: { status: 200, description: "The OpenAPI 3.1 document", schema: { inline: { type: "object" } } },
    problems: [],
  },
});

/** Served by the platform key set's function. */
export const platformKeyRoutes = routes({
  getPlatformKeys: {
    method: "GET",
    path: "/v1/platform/keys",
    tag: "Platform",
    summary: "The key set providers verify the platform's calls with (ES256)",
    auth: {
      public: "The platform's public key set is public by design: providers verify the platform's signature with it.",
    },
    success: { status: 200, description: "JSON Web Key Set", schema: named("KeySet", keySet) },
    problems: [],
  },
});

export type PlatformDriftChecks = AllTrue<[Describes<typeof health, HealthReport>]>;
