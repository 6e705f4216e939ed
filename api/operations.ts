import { agentNodeRoutes } from "./agent-nodes.ts";
import { catalogRoutes } from "./catalog.ts";
import { deliveryRoutes } from "./delivery.ts";
import { dictionaryRoutes } from "./dictionary.ts";
import { disclosureRoutes } from "./disclosure.ts";
import { exchangeRoutes } from "./exchange.ts";
import { exportRoutes } from "./exports.ts";
import { checkpointerRoutes, checkpointPublisherRoutes, logReaderRoutes } from "./logs.ts";
import { oversightRoutes } from "./oversight.ts";
import { permissionRoutes } from "./permissions.ts";
import { healthRoutes, openApiRoutes, platformKeyRoutes } from "./platform.ts";
import { registryRoutes } from "./registry.ts";
import { type Operation, operationsOf, type RouteTable } from "./route.ts";
import { syncRoutes } from "./sync.ts";
import { violationRoutes } from "./violations.ts";

/**
 * Every route table, one per function that serves routes, in the order the README and the
 * OpenAPI document present them.
 */
export const ROUTE_TABLES: readonly RouteTable[] = [
  healthRoutes,
  openApiRoutes,
  platformKeyRoutes,
  registryRoutes,
  agentNodeRoutes,
  catalogRoutes,
  dictionaryRoutes,
  permissionRoutes,
  exchangeRoutes,
  syncRoutes,
  deliveryRoutes,
  exportRoutes,
  logReaderRoutes,
  checkpointPublisherRoutes,
  checkpointerRoutes,
  oversightRoutes,
  violationRoutes,
  disclosureRoutes,
];

/**
 * Every method the CDK app wires to the API, with its operation id. The infrastructure tests
 * check this list against the synthesized template, method for method.
 */
export const OPERATIONS: readonly Operation[] = ROUTE_TABLES.flatMap(operationsOf);
