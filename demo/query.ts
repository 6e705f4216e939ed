#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { exchangeRoutes } from "../api/exchange.ts";
// `npm run demo:query -- [personalId]`: the provincial portal (HCM.PORTAL) asks for one
// citizen's record through the running platform, signed with its key from .dscp/keys.
import { pathOf } from "../api/route.ts";
import { DscpClient } from "../client/dscp-client.ts";
import { loadIdentity } from "../client/identity-files.ts";
import { readPlatformOutputs } from "../client/outputs.ts";
import { DEMO_DATASET } from "./seed.ts";

const outputs = readPlatformOutputs(".dscp/outputs.json");
const portal = new DscpClient({
  baseUrl: String(outputs.ApiUrl),
  audience: String(outputs.PlatformAudience),
  identity: loadIdentity(".dscp/keys/HCM.PORTAL.json"),
});
const key = process.argv[2] ?? readFileSync(".dscp/demo-sample-key", "utf8").trim();
const response = await portal.send(
  exchangeRoutes.getRecord.method,
  pathOf(exchangeRoutes.getRecord, { datasetId: DEMO_DATASET, key }),
);
process.stdout.write(
  `${response.status} (transaction ${response.transactionId})\n${JSON.stringify(response.body, null, 2)}\n`,
);
