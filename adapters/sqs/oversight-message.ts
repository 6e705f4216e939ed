import * as z from "zod/mini";
import type { OversightDeps } from "../../domain/oversight/oversight-service.ts";
import type { Exactly, Parsed, Same } from "./message-schema.ts";

type OversightWork = Parameters<OversightDeps["queue"]>[0][number];
const oversightShapes = [
  { auditId: z.string() },
  { rankingYear: z.number() },
  { rankingYear: z.number(), agency: z.string() },
] as const;
export type OversightMessageIsOversightWork = Exactly<
  Same<
    Parsed<(typeof oversightShapes)[0]> | Parsed<(typeof oversightShapes)[1]> | Parsed<(typeof oversightShapes)[2]>,
    OversightWork
  >
>;
/** The oversight queue: an audit to run, by id, or a year to rank (officially, or an agency's self-evaluation). */
export const oversightMessage = z.union([
  z.object(oversightShapes[0]),
  z.strictObject(oversightShapes[2]),
  z.object(oversightShapes[1]),
]);
