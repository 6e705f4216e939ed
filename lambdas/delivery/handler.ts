import { deliveryRoutes } from "../../api/delivery.ts";
import { inboxQuery, subscriptionQuery } from "../../domain/delivery/model.ts";
import { parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { httpHandler, ok } from "../shared/http.ts";
import { dispatch, pagination, pathParameter, queryParameters } from "../shared/routes.ts";
import { deliveryService } from "./wiring.ts";

/** Subscriptions to sync deliveries, consumers' inboxes and the operator's redrive (Art. 7.2b). */
export const handler = httpHandler(
  dispatch(deliveryRoutes, {
    subscribe: async (event) => {
      const { subscription, created } = await deliveryService().subscribe(
        authenticatedCaller(event),
        parseJsonBody(event.body),
      );
      return { status: created ? 201 : 200, body: subscription };
    },
    listSubscriptions: async (event) => ({
      status: 200,
      body: {
        items: await deliveryService().subscriptions(
          authenticatedCaller(event),
          queryParameters(event, subscriptionQuery),
        ),
      },
    }),
    unsubscribe: async (event) =>
      ok(deliveryService().unsubscribe(authenticatedCaller(event), pathParameter(event, "subscriptionId"))),
    readInbox: async (event) =>
      ok(
        deliveryService().inbox(
          authenticatedCaller(event),
          queryParameters(event, inboxQuery).datasetId,
          pagination(event),
        ),
      ),
    acknowledgeInbox: async (event) => ok(deliveryService().ack(authenticatedCaller(event), parseJsonBody(event.body))),
    redriveDeliveries: async (event) =>
      ok(deliveryService().redrive(authenticatedCaller(event), parseJsonBody(event.body))),
  }),
);
