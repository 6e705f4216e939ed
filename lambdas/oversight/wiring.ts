import { DynamoCatalogStore } from "../../adapters/dynamodb/catalog-store.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { cachedSchemaVersions, DynamoDictionaryStore } from "../../adapters/dynamodb/dictionary-store.ts";
import { DynamoExchangeLogStore } from "../../adapters/dynamodb/exchange-log-store.ts";
import { DynamoIntegratedStore } from "../../adapters/dynamodb/integrated-store.ts";
import { DynamoOversightStore } from "../../adapters/dynamodb/oversight-store.ts";
import { DynamoPermissionStore } from "../../adapters/dynamodb/permission-store.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { DynamoViolationStore } from "../../adapters/dynamodb/violation-store.ts";
import { sendAll } from "../../adapters/sqs/send.ts";
import { RecordValidator } from "../../domain/dictionary/validator.ts";
import { OversightService } from "../../domain/oversight/oversight-service.ts";
import { ViolationService } from "../../domain/oversight/violation-service.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { oversightEnvironment } from "./environment.ts";

const environment = lazyEnvironment(oversightEnvironment);
let service: OversightService | undefined;
let violations: ViolationService | undefined;

/** The register of violations of this execution environment, built on first use. */
export function violationService(): ViolationService {
  if (violations) return violations;
  const env = environment();
  const client = dynamoDbClient();
  const oversight = new DynamoOversightStore(client, env.INTEGRATED_TABLE_NAME);
  const catalog = new DynamoCatalogStore(client, env.REGISTRY_TABLE_NAME);
  const registry = new DynamoRegistryStore(client, env.REGISTRY_TABLE_NAME);
  const log = new DynamoExchangeLogStore(client, env.LOG_TABLE_NAME);
  violations = new ViolationService({
    store: new DynamoViolationStore(client, env.INTEGRATED_TABLE_NAME),
    audit: (auditId) => oversight.getAudit(auditId),
    dataset: (datasetId) => catalog.getDataset(datasetId),
    connections: (datasetIds) => log.connections(datasetIds),
    agencyExists: async (code) => (await registry.getAgency(code)) !== undefined,
  });
  return violations;
}

/** The oversight service of this execution environment, built on first use. */
export function oversightService(): OversightService {
  if (service) return service;
  const env = environment();
  const client = dynamoDbClient();
  const integrated = new DynamoIntegratedStore(client, env.INTEGRATED_TABLE_NAME);
  const permissions = new DynamoPermissionStore(client, env.PERMISSIONS_TABLE_NAME);
  const log = new DynamoExchangeLogStore(client, env.LOG_TABLE_NAME);
  service = new OversightService({
    catalog: new DynamoCatalogStore(client, env.REGISTRY_TABLE_NAME),
    schemas: cachedSchemaVersions(new DynamoDictionaryStore(client, env.REGISTRY_TABLE_NAME)),
    validator: new RecordValidator(),
    records: (datasetId) => (page) => integrated.query(datasetId, {}, page),
    permissions: (dataset) => (page) =>
      permissions.listPermissions(
        { kind: "provider-agency", agency: dataset.managingAgency },
        { datasetId: dataset.id },
        page,
      ),
    // A dataset's entries are read from its provider agency's index, not from the whole log.
    entries:
      ({ dataset, ...window }) =>
      (page) =>
        log.query(dataset ? { kind: "provider", agency: dataset.managingAgency } : { kind: "all" }, {
          ...window,
          ...(dataset ? { datasetId: dataset.id } : {}),
          ...page,
        }),
    connections: (datasetIds) => log.connections(datasetIds),
    store: new DynamoOversightStore(client, env.INTEGRATED_TABLE_NAME),
    queue: (work) => sendAll(env.OVERSIGHT_QUEUE_URL, work, "audits or rankings"),
    overdueViolations: (agency) => violationService().overdue(agency),
  });
  return service;
}
