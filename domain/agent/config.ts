import * as z from "zod/mini";

/*
 * The central configuration of an Agent Node (Art. 7.3d): what the node serves, which datasets
 * its internal clients may call through it, the subscriptions it applies and the datasets it
 * publishes. The platform keeps it and signs it; the node fetches it. Backends are named here and
 * defined, with their secrets, only in the node's own file.
 */

export const servedDataset = z.object({
  datasetId: z.string(),
  /** Name of a backend in the node's local file. */
  backend: z.string(),
  /** Filled by the platform from the catalog when it stores the config: the dataset's upstreamPath. */
  path: z.optional(z.string()),
  sql: z.optional(
    z.object({
      table: z.string(),
      keyColumn: z.string(),
      /** Dataset field -> column. */
      fields: z.record(z.string(), z.string()),
      /** Dataset fields a query may filter on (equality). */
      filterable: z.optional(z.array(z.string())),
    }),
  ),
  rest: z.optional(
    z.object({
      /** E.g. "/citizens/{key}" below the backend's baseUrl. */
      recordPath: z.string(),
      /** POST with {filters, fields, limit, cursor}. */
      queryPath: z.optional(z.string()),
      /** Dataset field -> source field. */
      fields: z.optional(z.record(z.string(), z.string())),
      timeoutMs: z.optional(z.number()),
    }),
  ),
});
export type ServedDataset = z.infer<typeof servedDataset>;

export const appliedSubscription = z.object({
  subscriptionId: z.string(),
  datasetId: z.string(),
  /** Name of a local backend of type sql (PostgreSQL) to apply into. */
  store: z.string(),
  /** Table the node creates/uses. */
  table: z.string(),
  /** Push path below the node's endpoint, default "/dscp/deliveries". */
  path: z.optional(z.string()),
});
export type AppliedSubscription = z.infer<typeof appliedSubscription>;

export const publishedDataset = z.object({
  datasetId: z.string(),
  backend: z.string(),
  source: z.object({
    table: z.string(),
    keyColumn: z.string(),
    watermarkColumn: z.string(),
    fields: z.record(z.string(), z.string()),
    tombstoneTable: z.optional(z.string()),
  }),
  /** 10..86400. */
  everySeconds: z.number(),
});
export type PublishedDataset = z.infer<typeof publishedDataset>;

export const agentConfig = z.object({
  serves: z._default(z.array(servedDataset), []),
  /** Dataset ids internal clients may call through the node. */
  calls: z._default(z.array(z.string()), []),
  subscriptions: z._default(z.array(appliedSubscription), []),
  publishes: z._default(z.array(publishedDataset), []),
});
export type AgentConfig = z.infer<typeof agentConfig>;
