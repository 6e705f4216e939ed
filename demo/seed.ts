import { dictionaryRoutes } from "../api/dictionary.ts";
import { platformKeyRoutes } from "../api/platform.ts";
import { pathOf } from "../api/route.ts";
import { DscpClient, DscpProblemError } from "../client/dscp-client.ts";
import { ensureIdentity, type IdentityFile, identityPath } from "../client/identity-files.ts";
import { dictionarySample, ignoringConflict, loadDictionarySample } from "./dictionary.ts";
import { syntheticPopulation } from "./population.ts";
import { type DemoUpstream, startDemoUpstream } from "./upstream.ts";

/** Where the demo provider listens; fixed, because the registry keeps its endpoint across restarts. */
export const DEMO_UPSTREAM_PORT = 3100;
export const DEMO_DATASET = "MPS.POPULATION.CITIZENS";
export const DEMO_REGISTER = "MPS.POPULATION.REGISTER";

export interface DemoWorld {
  readonly upstream: DemoUpstream;
  readonly consumerKeyFile: string;
  readonly sampleKey: string;
}

/**
 * Seeds the demo of design.md: the Ministry of Public Security's population database (a
 * synthetic population behind a provider that verifies the platform's signature) and a
 * provincial portal allowed some of its fields. Safe to repeat: what exists is kept.
 */
export async function seedDemo(options: {
  apiUrl: string;
  audience: string;
  operator: IdentityFile;
  keysDir: string;
}): Promise<DemoWorld> {
  const client = (identity: IdentityFile) =>
    new DscpClient({ baseUrl: options.apiUrl, audience: options.audience, identity });
  const admin = client(options.operator);
  const provider = await ensureIdentity(options.keysDir, "MPS.POPULATION");
  const consumer = await ensureIdentity(options.keysDir, "HCM.PORTAL");
  const population = syntheticPopulation(1000, 2026);
  const upstream = await startDemoUpstream({
    jwksUrl: `${options.apiUrl}${pathOf(platformKeyRoutes.getPlatformKeys).slice(1)}`,
    platformIssuer: options.audience,
    systemId: provider.systemId,
    basePath: "/citizens",
    records: new Map(population.map((citizen) => [citizen.personalId, { ...citizen }])),
    port: DEMO_UPSTREAM_PORT,
  });

  await ignoringConflict(
    admin.registerAgency({ code: "MPS", name: "Bộ Công an", nameEn: "Ministry of Public Security", level: "central" }),
  );
  await ignoringConflict(
    admin.registerAgency({
      code: "HCM",
      name: "UBND Thành phố Hồ Chí Minh",
      nameEn: "Ho Chi Minh City People's Committee",
      level: "provincial",
    }),
  );
  await ignoringConflict(
    admin.registerSystem("MPS", {
      id: provider.systemId,
      name: "Cơ sở dữ liệu quốc gia về dân cư (demo)",
      capabilities: ["provider"],
      endpoint: upstream.url,
      keys: [{ kid: provider.kid, jwk: provider.publicJwk as never }],
    }),
  );
  // The operator approves the demo provider's endpoint (again, on a restart): only then do exchanges reach it.
  await admin.approveEndpoint(provider.systemId, upstream.url);
  await ignoringConflict(
    admin.registerSystem("HCM", {
      id: consumer.systemId,
      name: "Cổng dịch vụ công TP. Hồ Chí Minh (demo)",
      capabilities: ["consumer"],
      keys: [{ kid: consumer.kid, jwk: consumer.publicJwk as never }],
    }),
  );
  await loadDictionarySample(admin);
  await ignoringConflict(
    client(provider).invoke(dictionaryRoutes.publishSchemaVersion, { body: dictionarySample("citizen-schema.json") }),
  );
  await ignoringConflict(
    client(provider).publishDataset({
      id: DEMO_DATASET,
      providerSystem: provider.systemId,
      title: "Cơ sở dữ liệu quốc gia về dân cư (dữ liệu tổng hợp)",
      titleEn: "National population database (synthetic data)",
      description: "Synthetic citizens: identity number, name, birth date, gender, province, ethnicity.",
      scope: "Every citizen (here: 1,000 synthetic people)",
      qualityStatement: "Synthetic data for demonstration; no real person.",
      accessConditions: "State agencies within their functions (Art. 4.1).",
      updateFrequency: "P1D",
      classification: "restricted",
      mandatory: "none",
      methods: ["request"],
      upstreamPath: "/citizens",
      schema: DEMO_SCHEMA,
      keyFields: ["personalId"],
      fields: ["personalId", "fullName", "birthDate", "gender", "province", "ethnicity"].map((name) => ({
        name,
        type: name === "birthDate" ? ("date" as const) : ("string" as const),
        personal: name !== "province",
      })),
    }),
  );
  // A dataset seeded before the dictionary existed is standardised now.
  const published = await admin.getCatalogDataset(DEMO_DATASET);
  if (!published.schema) await client(provider).amendDataset(DEMO_DATASET, { schema: DEMO_SCHEMA });
  await ignoringConflict(
    client(provider).invoke(dictionaryRoutes.registerMasterData, {
      body: {
        code: "CITIZEN",
        name: "Công dân",
        nameEn: "Citizen",
        description: "Every citizen of Viet Nam, identified by the personal identification number.",
        level: "national",
        keyIdentifier: { field: "personalId", name: "Số định danh cá nhân" },
        sourceDataset: DEMO_DATASET,
      },
    }),
  );
  // The same citizens as a dataset of the National Integrated Database (7.2c), filled by sync batches.
  await ignoringConflict(
    client(provider).publishDataset({
      id: DEMO_REGISTER,
      providerSystem: provider.systemId,
      title: "Dân cư trong Cơ sở dữ liệu tổng hợp quốc gia (dữ liệu tổng hợp)",
      titleEn: "Population in the National Integrated Database (synthetic data)",
      description: "Synthetic citizens, synchronised by the ministry into the integrated database.",
      scope: "Citizens the ministry has synchronised",
      qualityStatement: "Synthetic data for demonstration; every record validated against MPS.CITIZEN 1.0.0.",
      accessConditions: "State agencies within their functions (Art. 4.1).",
      classification: "restricted",
      methods: ["integrated", "sync", "export"],
      schema: DEMO_SCHEMA,
      keyFields: ["personalId"],
      fields: ["personalId", "fullName", "birthDate", "gender", "province", "ethnicity"].map((name) => ({
        name,
        type: name === "birthDate" ? ("date" as const) : ("string" as const),
        personal: name !== "province",
      })),
    }),
  );
  for (const [datasetId, methods] of [
    [DEMO_DATASET, ["request"]],
    [DEMO_REGISTER, ["integrated", "sync", "export"]],
  ] as const) {
    const { items } = await client(consumer).listPermissions({ datasetId, status: "active", limit: 10 });
    if (items.length > 0) continue;
    const request = await client(consumer).requestAccess({
      datasetId,
      fields: ["personalId", "fullName", "birthDate", "province"],
      purpose: "Verify residents' identity for public services",
      purposeClass: "public-service",
      methods: [...methods],
      validUntil: new Date(Date.now() + 365 * 86_400_000).toISOString(),
      legalBasis: `Decree on data connection and sharing, Art. 4.1 and 7.2${datasetId === DEMO_DATASET ? "a" : "b-d"}`,
    });
    await client(provider).decide(request.id, {
      decision: "approve",
      reason: "Within the portal's public-service functions",
    });
  }
  // The portal also takes the register's sync batches (7.2b), in its inbox. State kept from
  // before deliveries existed has a permission without sync: then the demo goes on without it.
  await client(consumer)
    .subscribe({ datasetId: DEMO_REGISTER, delivery: "inbox", fields: ["personalId", "fullName", "province"] })
    .catch((error: unknown) => {
      if (!(error instanceof DscpProblemError && error.status === 403)) throw error;
      process.stderr.write(
        `the demo portal is not subscribed to ${DEMO_REGISTER}: ${error.message} (npm start -- --fresh)\n`,
      );
    });
  return {
    upstream,
    consumerKeyFile: identityPath(options.keysDir, consumer.systemId),
    sampleKey: (population[0] as { personalId: string }).personalId,
  };
}

const DEMO_SCHEMA = { id: "MPS.CITIZEN", version: "1.0.0" };
