import { randomBytes } from "node:crypto";
import { DscpClient } from "../../client/dscp-client.ts";
import { generateIdentity, type IdentityFile } from "../../client/identity-files.ts";
import { dictionarySample, loadDictionarySample } from "../../demo/dictionary.ts";
import { type DemoUpstream, startDemoUpstream } from "../../demo/upstream.ts";
import type { NewDatasetInput } from "../../domain/catalog/model.ts";
import { target } from "./target.ts";

/** A provider ministry and a provincial consumer, registered with fresh codes for one test file. */
export interface World {
  readonly providerAgency: string;
  readonly consumerAgency: string;
  readonly provider: IdentityFile;
  readonly consumer: IdentityFile;
  /** The supervisor's system (role `supervisor`, Ministry of Public Security's inspectors). */
  readonly supervisor: IdentityFile;
  /** A foreign partner's consumer system (Art. 11). */
  readonly foreign: IdentityFile;
  readonly client: (identity?: IdentityFile) => DscpClient;
  readonly admin: DscpClient;
}

/** Letters and digits unique to this run, so tests also run against a long-lived deployment. */
export function runId(): string {
  return randomBytes(3).toString("hex").toUpperCase().replace(/^\d/, "R");
}

export async function createWorld(
  options: { run?: string; providerEndpoint?: string; consumerEndpoint?: string } = {},
): Promise<World> {
  const { apiUrl, audience, operator } = target();
  const client = (identity?: IdentityFile) =>
    new DscpClient({ baseUrl: apiUrl, audience, ...(identity ? { identity } : {}) });
  const admin = client(operator);
  const run = options.run ?? runId();
  const providerAgency = `P${run}`;
  const consumerAgency = `C${run}`;
  const provider = await generateIdentity(`${providerAgency}.POPULATION`);
  // The consumer signs with ES256, the others with EdDSA: both algorithms run end to end.
  const consumer = await generateIdentity(`${consumerAgency}.PORTAL`, "ES256");
  const supervisorAgency = `S${run}`;
  const supervisor = await generateIdentity(`${supervisorAgency}.INSPECTION`);
  const foreignAgency = `F${run}`;
  const foreign = await generateIdentity(`${foreignAgency}.GATEWAY`);
  await admin.registerAgency({ code: providerAgency, name: "Bộ (kiểm thử)", level: "central" });
  await admin.registerAgency({
    code: consumerAgency,
    name: "Tỉnh (kiểm thử)",
    level: "provincial",
    parentCode: providerAgency,
  });
  await admin.registerAgency({ code: supervisorAgency, name: "Thanh tra (kiểm thử)", level: "central" });
  await admin.registerSystem(supervisorAgency, {
    id: supervisor.systemId,
    name: "Inspection",
    capabilities: ["consumer"],
    roles: ["supervisor"],
    keys: [{ kid: supervisor.kid, jwk: supervisor.publicJwk as never }],
  });
  await admin.registerAgency({ code: foreignAgency, name: "Foreign partner (test)", level: "foreign", country: "LA" });
  await admin.registerSystem(foreignAgency, {
    id: foreign.systemId,
    name: "Partner gateway",
    capabilities: ["consumer"],
    keys: [{ kid: foreign.kid, jwk: foreign.publicJwk as never }],
  });
  const providerEndpoint = options.providerEndpoint ?? "https://population.example.gov.vn/dscp";
  await admin.registerSystem(providerAgency, {
    id: provider.systemId,
    name: "Population database",
    capabilities: ["provider"],
    endpoint: providerEndpoint,
    keys: [{ kid: provider.kid, jwk: provider.publicJwk as never }],
  });
  await admin.registerSystem(consumerAgency, {
    id: consumer.systemId,
    name: "Public service portal",
    capabilities: ["consumer"],
    ...(options.consumerEndpoint ? { endpoint: options.consumerEndpoint } : {}),
    keys: [{ kid: consumer.kid, jwk: consumer.publicJwk as never }],
  });
  // The operator approves both endpoints, as it would after reviewing them: only then do exchanges and pushes reach them.
  await admin.approveEndpoint(provider.systemId, providerEndpoint);
  if (options.consumerEndpoint) await admin.approveEndpoint(consumer.systemId, options.consumerEndpoint);
  return { providerAgency, consumerAgency, provider, consumer, supervisor, foreign, client, admin };
}

/** The synthetic citizens dataset the end-to-end tests publish, served by the demo provider at `/citizens`. */
export function citizensDataset(
  id: string,
  providerSystem: string,
  overrides: Partial<NewDatasetInput> = {},
): Partial<NewDatasetInput> {
  return {
    id,
    providerSystem,
    title: "Dân cư (kiểm thử)",
    description: "Synthetic citizens.",
    scope: "Citizens",
    qualityStatement: "Synthetic.",
    accessConditions: "State agencies.",
    classification: "restricted",
    methods: ["request"],
    upstreamPath: "/citizens",
    keyFields: ["personalId"],
    fields: ["personalId", "fullName", "birthDate", "gender", "province", "ethnicity"].map((name) => ({
      name,
      type: name === "birthDate" ? ("date" as const) : ("string" as const),
      personal: name !== "province",
    })),
    ...overrides,
  };
}

/**
 * Loads the demo dictionary and publishes the citizen schema as this run's provider's own
 * (`P<run>.CITIZEN` 1.0.0), so runs against a long-lived deployment never share one.
 */
export async function publishCitizenSchema(world: World, run: string): Promise<{ id: string; version: string }> {
  await loadDictionarySample(world.admin);
  const schema = { ...(dictionarySample("citizen-schema.json") as object), id: `P${run}.CITIZEN` };
  await world.client(world.provider).call("POST", "/v1/dictionary/schemas", { body: schema });
  return { id: schema.id, version: "1.0.0" };
}

/**
 * A world whose provider is a demo upstream serving `records` (by personal id) under
 * `/citizens`, verifying the platform's signature; stop the upstream after the file.
 */
export async function createWorldWithUpstream<R extends { readonly personalId: string }>(
  run: string,
  records: readonly R[],
): Promise<{ world: World; upstream: DemoUpstream }> {
  const { apiUrl, audience } = target();
  const upstream = await startDemoUpstream({
    jwksUrl: `${apiUrl}v1/platform/keys`,
    platformIssuer: audience,
    systemId: `P${run}.POPULATION`,
    basePath: "/citizens",
    records: new Map(records.map((record): [string, Record<string, unknown>] => [record.personalId, { ...record }])),
  });
  return { world: await createWorld({ run, providerEndpoint: upstream.url }), upstream };
}
