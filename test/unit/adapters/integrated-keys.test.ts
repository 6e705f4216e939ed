import { DeleteItemCommand, type DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoBatchStore } from "../../../adapters/dynamodb/batch-store.ts";
import { DynamoDeliveryStore } from "../../../adapters/dynamodb/delivery-store.ts";
import { DynamoExportStore } from "../../../adapters/dynamodb/export-store.ts";
import { INTEGRATED_KEY_PREFIXES as KEY } from "../../../adapters/dynamodb/integrated-keys.ts";
import { DynamoSubscriptionStore } from "../../../adapters/dynamodb/subscription-store.ts";
import type { DeliveryMessage, Subscription } from "../../../domain/delivery/model.ts";
import type { ExportJob } from "../../../domain/export/model.ts";
import { integratedTable } from "../dynalite-table.ts";

/*
 * The delivery and export functions may write only items under the prefixes their constructs
 * grant (test/infra/platform-stack.test.ts pins those grants). IAM is not enforced locally, so
 * this records the partition key of every write the stores they use send, against dynalite.
 */

let table: Awaited<ReturnType<typeof integratedTable>>;
const writes: Array<{ action: string; pk: string }> = [];

/** The real client, noting the action and partition key of every item write it sends. */
function recording(client: DynamoDBClient): DynamoDBClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== "send") return Reflect.get(target, property, receiver);
      return (command: unknown) => {
        if (command instanceof PutItemCommand) {
          writes.push({ action: "PutItem", pk: String(unmarshall(command.input.Item ?? {}).pk) });
        } else if (command instanceof UpdateItemCommand || command instanceof DeleteItemCommand) {
          const action = command instanceof UpdateItemCommand ? "UpdateItem" : "DeleteItem";
          writes.push({ action, pk: String(unmarshall(command.input.Key ?? {}).pk) });
        } else if (!/^(Get|Query|BatchGet)/.test((command as object).constructor.name)) {
          throw new Error(`unexpected ${(command as object).constructor.name}`);
        }
        return target.send(command as never);
      };
    },
  });
}

/** Which prefix a partition key lies under, by the name the shared constants give it. */
const prefixOf = (pk: string) => Object.entries(KEY).find(([, prefix]) => pk.startsWith(prefix))?.[0] ?? pk;

beforeAll(async () => {
  table = await integratedTable();
});

afterAll(async () => {
  await table?.stop();
});

describe("the integrated table's working items", () => {
  it("are written by delivery and export under the shared prefixes only", async () => {
    const client = recording(table.client);
    const deliveries = new DynamoDeliveryStore(client, table.table);
    const subscriptions = new DynamoSubscriptionStore(client, table.table);
    const batches = new DynamoBatchStore(client, table.table);
    const exports = new DynamoExportStore(client, table.table);
    const at = "2026-11-30T00:00:00.000Z";
    const batch = "MPS.POPULATION/batch-1";
    const message = {
      messageId: "m1",
      batchId: "batch-1",
      datasetId: "MPS.POPULATION.REGISTER",
      providerSystem: "MPS.POPULATION",
      providerAgency: "MPS",
      subscriptionId: "MPS.POPULATION.REGISTER@HCM.PORTAL",
      consumerSystem: "HCM.PORTAL",
      consumerAgency: "HCM",
      delivery: "inbox",
      fields: [],
      records: [],
      createdAt: at,
      attempt: 1,
    } satisfies DeliveryMessage;
    const subscription = {
      id: message.subscriptionId,
      datasetId: message.datasetId,
      consumerSystem: message.consumerSystem,
    } as unknown as Subscription;

    await deliveries.register(batch, {
      messageId: "m1",
      batchId: "batch-1",
      datasetId: message.datasetId,
      consumerSystem: "HCM.PORTAL",
      delivery: "inbox",
      records: 0,
      state: "pending",
      attempts: 0,
      createdAt: at,
      updatedAt: at,
    });
    writes.splice(0); // registering is the sync functions' write
    // The delivery API subscribes and unsubscribes, acknowledges, redrives (a transition and a
    // count); the deliverer deposits, notes attempts, moves states on and counts.
    await subscriptions.put(subscription);
    await subscriptions.delete(message.subscriptionId);
    await deliveries.deposit(message, at);
    await deliveries.ack("HCM.PORTAL", [`${at}#m1`]);
    await deliveries.attempted(batch, "m1", { attempts: 1, at, lastError: "refused" });
    await deliveries.transition(batch, "m1", ["pending"], "delivered", { attempts: 1, at });
    // No batch item here: the count is refused by its condition, after the write was sent.
    await batches.countDeliveries(batch, { delivered: 1 }).catch(() => undefined);
    // The export API and job.
    await exports.create({ exportId: "EXP-1", state: "running" } as unknown as ExportJob);
    await exports.update("EXP-1", { progress: 1 });

    expect(writes.map(({ action, pk }) => `${action} ${prefixOf(pk)}`)).toEqual([
      "PutItem subscription",
      "DeleteItem subscription",
      "PutItem inbox",
      "DeleteItem inbox",
      "UpdateItem delivery",
      "UpdateItem delivery",
      "UpdateItem batch",
      "PutItem export",
      "UpdateItem export",
    ]);
  });
});
