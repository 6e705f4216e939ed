import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoDeliveryStore } from "../../adapters/dynamodb/delivery-store.ts";
import { syncRoutes } from "../../api/sync.ts";
import { deliveryListQuery } from "../../domain/delivery/model.ts";
import { batchKey, batchOwnerQuery } from "../../domain/sync/model.ts";
import { parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { accepted, created, httpHandler, ok } from "../shared/http.ts";
import { dispatch, pagination, pathParameter, queryParameters } from "../shared/routes.ts";
import { syncApiEnvironment } from "./environment.ts";
import { batchReader, submission } from "./wiring.ts";

const environment = lazyEnvironment(syncApiEnvironment);
let deliveryStore: DynamoDeliveryStore | undefined;
const deliveries = () => {
  deliveryStore ??= new DynamoDeliveryStore(dynamoDbClient(), environment().INTEGRATED_TABLE_NAME);
  return deliveryStore;
};

/** The provider system whose batch a route names (`?provider=`; by default the caller's). */
const owner = (event: Parameters<typeof authenticatedCaller>[0]) => queryParameters(event, batchOwnerQuery).provider;

/** Sync batches (Art. 7.2b, 7.2c): submitted inline, followed to completion. Batch ids are their provider's own. */
export const handler = httpHandler(
  dispatch(syncRoutes, {
    submitBatch: async (event, { transactionId }) => {
      const { batch, replayed } = await submission().submit(
        authenticatedCaller(event),
        pathParameter(event, "datasetId"),
        parseJsonBody(event.body),
        transactionId,
        Buffer.byteLength(event.body ?? ""),
      );
      // 202: accepted and being applied; 200: this batch id was submitted before, nothing changed.
      return { status: replayed ? 200 : 202, body: batch };
    },
    startUpload: async (event, { transactionId }) =>
      created(
        submission().startUpload(
          authenticatedCaller(event),
          pathParameter(event, "datasetId"),
          parseJsonBody(event.body),
          transactionId,
        ),
      ),
    completeUpload: async (event, { transactionId }) =>
      accepted(
        submission().completeUpload(
          authenticatedCaller(event),
          pathParameter(event, "batchId"),
          transactionId,
          parseJsonBody(event.body),
          owner(event),
        ),
      ),
    listBatchDeliveries: async (event) => {
      const batch = await batchReader().readableBatch(
        authenticatedCaller(event),
        pathParameter(event, "batchId"),
        owner(event),
      );
      return ok(
        deliveries().list(
          batchKey(batch.providerSystem, batch.batchId),
          queryParameters(event, deliveryListQuery).state,
          pagination(event),
        ),
      );
    },
    getBatch: async (event) =>
      ok(batchReader().status(authenticatedCaller(event), pathParameter(event, "batchId"), owner(event))),
  }),
);
