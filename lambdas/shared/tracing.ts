import { Tracer } from "@aws-lambda-powertools/tracer";

/**
 * The Powertools tracer (X-Ray SDK) of the functions that record subsegments. Importing it
 * installs async hooks that run on every promise of the process and patches `http`/`https`:
 * about a fifth of the exchange function's CPU in a profile of `npm run bench:exchange`. The
 * functions on the exchange path (authoriser, exchange, log appender) therefore never import
 * this module; Lambda's active tracing still records each of their invocations.
 */
export const tracer = new Tracer();
