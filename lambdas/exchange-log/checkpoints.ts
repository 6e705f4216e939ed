import { s3LogArchive } from "../../adapters/s3/log-archive.ts";
import { checkpointPublisherRoutes } from "../../api/logs.ts";
import { decodeCheckpoint } from "../../domain/exchange-log/checkpoint.ts";
import { checkpointPageQuery } from "../../domain/exchange-log/model.ts";
import { ProblemError } from "../../domain/problem.ts";
import { parseInput } from "../../domain/validation.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { httpHandler } from "../shared/http.ts";
import { dispatch } from "../shared/routes.ts";
import { checkpointsEnvironment } from "./environment.ts";

const environment = lazyEnvironment(checkpointsEnvironment);
const archive = () => s3LogArchive(environment().ARCHIVE_BUCKET_NAME);

/**
 * The exchange log's signed checkpoints, public (Art. 13: public disclosure): anyone can fetch
 * them and check them offline with the platform's published key set.
 */
export const handler = httpHandler(
  dispatch(checkpointPublisherRoutes, {
    listLogCheckpoints: async (event) => {
      const query = parseInput(
        checkpointPageQuery,
        { limit: event.queryStringParameters?.limit, cursor: event.queryStringParameters?.cursor },
        "query parameters",
      );
      const limit = query.limit === undefined ? 25 : Number(query.limit);
      const { items, more } = await archive().list(
        limit,
        query.cursor === undefined ? undefined : Number(query.cursor),
      );
      const page = items.map((stored) => decodeCheckpoint(stored.jws));
      const oldest = page.at(-1)?.checkpoint.number;
      return {
        status: 200,
        body: { items: page, ...(more && oldest !== undefined ? { nextCursor: String(oldest) } : {}) },
        headers: { "Cache-Control": "no-store" },
      };
    },
    getLatestLogCheckpoint: async () => {
      const stored = await archive().latest();
      if (!stored) {
        throw new ProblemError(404, "no-checkpoint", "No checkpoint yet", "the exchange log has no checkpoint yet");
      }
      return { status: 200, body: decodeCheckpoint(stored.jws), headers: { "Cache-Control": "no-store" } };
    },
  }),
);
