import { DynamoCatalogStore } from "../../adapters/dynamodb/catalog-store.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { cachedSchemaVersions, DynamoDictionaryStore } from "../../adapters/dynamodb/dictionary-store.ts";
import { DynamoExportStore } from "../../adapters/dynamodb/export-store.ts";
import { DynamoIntegratedStore } from "../../adapters/dynamodb/integrated-store.ts";
import { DynamoPermissionStore } from "../../adapters/dynamodb/permission-store.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { kmsSigner } from "../../adapters/kms/kms-signer.ts";
import { s3PackageStore } from "../../adapters/s3/package-store.ts";
import { queuedExchangeLog } from "../../adapters/sqs/exchange-log-queue.ts";
import { RecordValidator } from "../../domain/dictionary/validator.ts";
import { ExportService } from "../../domain/export/export-service.ts";
import type { ExportRunner } from "../../domain/export/model.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { exportEnvironment } from "./environment.ts";

const environment = lazyEnvironment(exportEnvironment);
let service: ExportService | undefined;

/** The export service of this execution environment, built on first use; `runner` starts jobs (the API's). */
export function exportService(runner?: () => ExportRunner): ExportService {
  if (service) return service;
  const env = environment();
  const client = dynamoDbClient();
  service = new ExportService({
    catalog: new DynamoCatalogStore(client, env.REGISTRY_TABLE_NAME),
    registry: new DynamoRegistryStore(client, env.REGISTRY_TABLE_NAME),
    permissions: new DynamoPermissionStore(client, env.PERMISSIONS_TABLE_NAME),
    schemas: cachedSchemaVersions(new DynamoDictionaryStore(client, env.REGISTRY_TABLE_NAME)),
    exports: new DynamoExportStore(client, env.INTEGRATED_TABLE_NAME),
    log: queuedExchangeLog(env.LOG_QUEUE_URL, Number(env.LOG_SHARDS)),
    integrated: new DynamoIntegratedStore(client, env.INTEGRATED_TABLE_NAME),
    packages: s3PackageStore(env.EXPORTS_BUCKET_NAME),
    signer: kmsSigner(env.PLATFORM_KEY_ID),
    validator: new RecordValidator(),
    platform: env.PLATFORM_ISSUER,
    ...(runner ? { runner: runner() } : {}),
  });
  return service;
}
