import * as z from "zod/mini";
import { type Chunk, type Operation, operationSchema } from "../../domain/sync/model.ts";
import type { Exactly, Parsed, Same } from "./message-schema.ts";

const operationShape = {
  index: z.number(),
  key: z.string(),
  operation: z.custom<Operation>((value) => operationSchema.safeParse(value).success, "must be an upsert or a delete"),
};
const chunkShape = {
  batchId: z.string(),
  providerSystem: z.optional(z.string()),
  datasetId: z.string(),
  chunk: z.number(),
  mode: z.enum(["incremental", "full"]),
  operations: z.readonly(z.array(z.object(operationShape))),
};
export type ChunkMessageIsChunk = Exactly<Same<Parsed<typeof chunkShape>, Chunk>>;
/** The sync workers' queue: one chunk of a batch to apply to the integrated store. */
export const chunkMessage = z.object(chunkShape);
