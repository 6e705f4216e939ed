import * as z from "zod/mini";
import { datasetId } from "../identifiers.ts";

/*
 * The central configuration of an Agent Node (Art. 7.3d): what the node serves, what its internal
 * clients may call, which subscriptions it applies and which datasets it publishes. The platform
 * keeps it and signs it; the node fetches and applies it. Backends are named here and described
 * in the node's own file: no address, credential or secret of an agency's system is ever on the
 * platform. Shared by the platform and the node, so this module depends on nothing but zod and
 * the platform's identifier formats.
 */

/** Longest list of anything in a configuration: a node serves, calls, applies and publishes this many at most. */
export const MAX_CONFIG_ENTRIES = 200;

/** A name of a backend in the node's local file. */
const backendName = z
  .string()
  .check(z.regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, "must be 1-64 letters, digits, '_' or '-', starting with a letter"));

/** A PostgreSQL table, optionally schema-qualified, in lower case: the node quotes nothing and builds no SQL from text. */
const tableName = z
  .string()
  .check(
    z.maxLength(127),
    z.regex(/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/, "must be a lower-case SQL identifier, optionally schema.table"),
  );

/** A column of such a table. */
const columnName = z
  .string()
  .check(z.regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lower-case SQL identifier of at most 63 characters"));

/** A dataset field, as the catalog and the exchange name it. */
const fieldName = z
  .string()
  .check(z.regex(/^[a-z][A-Za-z0-9]{0,63}$/, "must be a field name: a lower-case letter, then letters or digits"));

/** A field of a REST backend's JSON answer, as the node reads it (`a.b` reads a nested member). */
const sourceField = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z_$][A-Za-z0-9_$-]{0,63}(\.[A-Za-z_$][A-Za-z0-9_$-]{0,63}){0,7}$/,
      "must be a JSON member name, dotted for a nested one",
    ),
  );

/** A path below a base URL: absolute, no query, fragment, whitespace or `..` segment. */
const relativePath = (what: string) =>
  z.string().check(
    z.maxLength(512),
    z.regex(/^\/[A-Za-z0-9._~/{}:@!$&'()*+,;=%-]*$/, `must be an absolute path (${what}) without query or spaces`),
    z.refine((path) => !path.split("/").includes(".."), "must not hold a '..' segment"),
  );

/** Field mappings: at most 200 fields. */
const mapping = <V extends z.ZodMiniType<string>>(value: V) =>
  z.record(fieldName, value).check(
    z.refine((fields) => Object.keys(fields).length >= 1, "must map at least one field"),
    z.refine(
      (fields) => Object.keys(fields).length <= MAX_CONFIG_ENTRIES,
      `must map at most ${MAX_CONFIG_ENTRIES} fields`,
    ),
  );

/** A served dataset read from a PostgreSQL table, by parameterised queries. */
export const sqlMapping = z.object({
  table: tableName,
  keyColumn: columnName,
  /** Dataset field -> column. */
  fields: mapping(columnName),
  /** Dataset fields a query may filter on (equality); each one mapped in `fields`. */
  filterable: z.optional(z.array(fieldName).check(z.maxLength(MAX_CONFIG_ENTRIES))),
});

/** A served dataset read from a REST backend. */
export const restMapping = z.object({
  /** Below the backend's baseUrl, with `{key}` where the record's key goes, e.g. "/citizens/{key}". */
  recordPath: relativePath("with {key}").check(z.refine((path) => path.includes("{key}"), "must hold {key}")),
  /** Where queries are POSTed ({filters, fields, limit, cursor}); none: the dataset takes no queries. */
  queryPath: z.optional(relativePath("for queries")),
  /** Dataset field -> source field; none: the source's fields are the dataset's. */
  fields: z.optional(mapping(sourceField)),
  timeoutMs: z.optional(z.number().check(z.int(), z.minimum(100), z.maximum(60_000))),
});

/** A dataset the node serves to the platform, from one of its local backends. */
export const servedDataset = z
  .object({
    datasetId,
    /** Name of a backend in the node's LOCAL file. */
    backend: backendName,
    /** Filled by the platform from the catalog when it stores the config: the dataset's upstreamPath. */
    path: z.optional(
      z.string().check(z.maxLength(512), z.regex(/^\/[A-Za-z0-9._~/{}-]*$/, "must be an absolute path")),
    ),
    sql: z.optional(sqlMapping),
    rest: z.optional(restMapping),
  })
  .check(
    z.superRefine((served, context) => {
      if ((served.sql === undefined) === (served.rest === undefined)) {
        context.addIssue({
          code: "custom",
          input: served,
          path: [served.sql === undefined ? "sql" : "rest"],
          message: served.sql === undefined ? "give one of sql and rest" : "give sql or rest, not both",
        });
      }
      for (const [index, field] of (served.sql?.filterable ?? []).entries()) {
        if (!Object.hasOwn(served.sql?.fields ?? {}, field)) {
          context.addIssue({
            code: "custom",
            input: field,
            path: ["sql", "filterable", index],
            message: `${field} is not mapped in sql.fields`,
          });
        }
      }
    }),
  );
export type ServedDataset = z.infer<typeof servedDataset>;

/** A subscription whose deliveries the node applies into a local PostgreSQL table. */
export const appliedSubscription = z.object({
  /** As the platform names it: `<datasetId>@<consumer system>`. */
  subscriptionId: z
    .string()
    .check(z.regex(/^[A-Za-z0-9._:@-]{1,401}$/, "must be a subscription id, e.g. MPS.POPULATION.REGISTER@HCM.PORTAL")),
  datasetId,
  /** Name of a LOCAL backend of type sql (PostgreSQL) to apply into. */
  store: backendName,
  /** Table the node creates or uses: (key text pk, version bigint, deleted bool, record jsonb, applied_at timestamptz). */
  table: tableName,
  /** Push path below the node's endpoint. @default "/dscp/deliveries" */
  path: z.optional(relativePath("below the node's endpoint")),
});
export type AppliedSubscription = z.infer<typeof appliedSubscription>;

/** A dataset the node publishes from a SQL source as incremental sync batches. */
export const publishedDataset = z.object({
  datasetId,
  backend: backendName,
  source: z.object({
    table: tableName,
    keyColumn: columnName,
    /** A column that grows with every change (e.g. updated_at): what was sent is remembered by it. */
    watermarkColumn: columnName,
    fields: mapping(columnName),
    /** Keys of deleted rows, with the same watermark column. */
    tombstoneTable: z.optional(tableName),
  }),
  everySeconds: z.number().check(z.int(), z.minimum(10), z.maximum(86_400)),
});
export type PublishedDataset = z.infer<typeof publishedDataset>;

/** Each dataset (or subscription) once in a list: `key` names what must be unique. */
function uniqueIn<T>(list: string, key: (item: T) => string, what: string) {
  return z.superRefine((items: readonly T[], context) => {
    const seen = new Set<string>();
    for (const [index, item] of items.entries()) {
      const value = key(item);
      if (seen.has(value)) {
        context.addIssue({
          code: "custom",
          input: value,
          path: [index],
          message: `${what} ${value} is listed twice in ${list}`,
        });
      }
      seen.add(value);
    }
  });
}

/** The central configuration of one Agent Node. */
export const agentConfig = z.object({
  serves: z._default(
    z.array(servedDataset).check(
      z.maxLength(MAX_CONFIG_ENTRIES),
      uniqueIn("serves", (served: ServedDataset) => served.datasetId, "dataset"),
    ),
    [],
  ),
  /** Dataset ids internal clients may call through the node. */
  calls: z._default(
    z.array(datasetId).check(
      z.maxLength(MAX_CONFIG_ENTRIES),
      uniqueIn("calls", (id: string) => id, "dataset"),
    ),
    [],
  ),
  subscriptions: z._default(
    z.array(appliedSubscription).check(
      z.maxLength(MAX_CONFIG_ENTRIES),
      uniqueIn("subscriptions", (subscription: AppliedSubscription) => subscription.subscriptionId, "subscription"),
    ),
    [],
  ),
  publishes: z._default(
    z.array(publishedDataset).check(
      z.maxLength(MAX_CONFIG_ENTRIES),
      uniqueIn("publishes", (published: PublishedDataset) => published.datasetId, "dataset"),
    ),
    [],
  ),
});
export type AgentConfig = z.infer<typeof agentConfig>;
