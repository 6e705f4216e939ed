import * as z from "zod/mini";
import { type ExchangeEntry, exchangeEntryFields } from "../../domain/exchange/model.ts";
import type { Exactly, Parsed, Same } from "./message-schema.ts";

export type ExchangeEntryMessageIsExchangeEntry = Exactly<Same<Parsed<typeof exchangeEntryFields>, ExchangeEntry>>;
/**
 * The exchange log's queue: one entry. Loose: the entry is hashed into its chain as it was
 * queued, so nothing in it is dropped here.
 */
export const exchangeEntryMessage = z.looseObject(exchangeEntryFields);
