import { mkdirSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import dynalite from "dynalite";
import { buildApp } from "fauxqs";
import type { AwsCallCounter } from "./aws-calls.ts";
import { loadFauxqsStores, persistentS3Store } from "./persistent-s3-store.ts";
import {
  acceptEverySqsCharacter,
  receiveFifoGroupsLikeSqs,
  restoreQueuedMessages,
  type SqsStoreLike,
  saveQueuedMessages,
} from "./persistent-sqs.ts";

/** The real-protocol emulators the runtime stands in for AWS with, all on 127.0.0.1. */
export interface Emulators {
  /** DynamoDB endpoint (dynalite, LevelDB on disk). */
  readonly dynamodb: string;
  /** S3 and SQS endpoint (fauxqs; S3 written through to disk). */
  readonly s3: string;
  readonly sqs: string;
  /** Puts back the messages queued when the runtime last stopped; call once queues exist. */
  restoreQueuedMessages(): number;
  /** Stops the emulators, saving queued messages for the next start. */
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Folder holding DynamoDB and S3 data across restarts. */
  readonly dataDir: string;
  readonly region: string;
  /** Counts every request the emulators receive, by caller and operation. */
  readonly calls?: AwsCallCounter;
}

/** Starts dynalite and fauxqs on ephemeral loopback ports. */
export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const dynamoDir = join(options.dataDir, "dynamodb");
  mkdirSync(dynamoDir, { recursive: true });
  const dynamo = dynalite({ path: dynamoDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamoPort = await listen(dynamo);
  const { calls } = options;
  if (calls)
    dynamo.on("request", (request: IncomingMessage, response: ServerResponse) => calls.observe(request, response));

  const { S3Store, SqsStore, SnsStore } = await loadFauxqsStores();
  await acceptEverySqsCharacter();
  await receiveFifoGroupsLikeSqs();
  const sqsStore = new SqsStore() as SqsStoreLike & { host?: string };
  // fauxqs names queues http://sqs.<region>.localhost:<port>/…, a host that needs its DNS trick.
  // Without a host it uses the request's own (127.0.0.1:<port>), which SDK clients that send to
  // the queue URL (as recent SDKs do) can reach.
  sqsStore.host = "";
  const sqsDir = join(options.dataDir, "sqs");
  const fauxqs = buildApp({
    logger: false,
    defaultRegion: options.region,
    stores: {
      s3Store: persistentS3Store(S3Store, join(options.dataDir, "s3")),
      sqsStore,
      snsStore: new SnsStore(),
    } as never,
  });
  const fauxqsAddress = await fauxqs.listen({ port: 0, host: "127.0.0.1" });
  if (calls)
    fauxqs.server.on("request", (request: IncomingMessage, response: ServerResponse) =>
      calls.observe(request, response),
    );

  return {
    dynamodb: `http://127.0.0.1:${dynamoPort}`,
    s3: fauxqsAddress,
    sqs: fauxqsAddress,
    restoreQueuedMessages: () => restoreQueuedMessages(sqsStore, sqsDir),
    async stop() {
      saveQueuedMessages(sqsStore, sqsDir);
      await fauxqs.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}
