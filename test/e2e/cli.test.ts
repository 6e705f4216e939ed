import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli } from "../../cli/dscp.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import { type DemoUpstream, startDemoUpstream } from "../../demo/upstream.ts";
import { eventually, temporaryDir } from "../runtime/helpers.ts";
import { target } from "./target.ts";
import { citizensDataset, runId } from "./world.ts";

const { apiUrl, audience } = target();
const run = runId();
const population: Citizen[] = syntheticPopulation(20, 11);
const someone = population[2] as Citizen;
const provider = `P${run}.POPULATION`;
const consumer = `C${run}.PORTAL`;
const dataset = `${provider}.CITIZENS`;
const folder = temporaryDir("dscp-cli-");
const keysDir = join(folder, "keys");
let upstream: DemoUpstream;

/** Runs `dscp <argv>` in this process, against the deployment under test, with its own keys folder. */
async function dscp(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, {
    stdout: (text) => {
      out += text;
    },
    stderr: (text) => {
      err += text;
    },
    env: { DSCP_API_URL: apiUrl, DSCP_AUDIENCE: audience, DSCP_KEYS_DIR: keysDir },
    cwd: folder,
  });
  return { code, out, err };
}

async function ok(...argv: string[]): Promise<string> {
  const result = await dscp(...argv);
  if (result.code !== 0) throw new Error(`dscp ${argv.join(" ")} exited ${result.code}: ${result.err}`);
  return result.out;
}

beforeAll(async () => {
  upstream = await startDemoUpstream({
    jwksUrl: `${apiUrl}v1/platform/keys`,
    platformIssuer: audience,
    systemId: provider,
    basePath: "/citizens",
    records: new Map(population.map((citizen) => [citizen.personalId, { ...citizen }])),
  });
  // The operator's own key file, as npm start or npm run bootstrap wrote it.
  mkdirSync(keysDir, { recursive: true });
  copyFileSync(inject("operatorKeyFile"), join(keysDir, "NDC.OPERATOR.json"));
});

afterAll(async () => {
  await upstream?.stop();
});

describe("the dscp CLI, as an agency engineer uses it", () => {
  const terms = [
    "--purpose",
    "Check residence for school enrolment",
    "--purpose-class",
    "public-service",
    "--until",
    "2030-12-31",
    "--legal-basis",
    "Decree, Art. 4.1 and 7.2a",
  ];
  let permissionId: string;

  it("registers agencies and systems with keys it generated", async () => {
    const key = JSON.parse(await ok("keygen", provider)) as { kid: string; jwk: { kty: string } };
    await ok("keygen", consumer, "--alg", "ES256");
    await ok("agencies", "add", `P${run}`, "--name", "Bộ (kiểm thử CLI)", "--level", "central", "--as", "NDC.OPERATOR");
    await ok(
      "agencies",
      "add",
      `C${run}`,
      "--name",
      "Tỉnh (kiểm thử CLI)",
      "--level",
      "provincial",
      "--as",
      "NDC.OPERATOR",
    );
    const system = JSON.parse(
      await ok(
        "systems",
        "add",
        provider,
        "--name",
        "Population",
        "--capabilities",
        "provider",
        "--endpoint",
        upstream.url,
        "--as",
        "NDC.OPERATOR",
      ),
    ) as { id: string; capabilities: string[] };
    const pending = await ok("systems", "list", "--pending", "--agency", `P${run}`, "--as", "NDC.OPERATOR");
    const approved = JSON.parse(
      await ok("systems", "approve-endpoint", provider, upstream.url, "--as", "NDC.OPERATOR"),
    ) as { endpointStatus: string };
    await ok("systems", "add", consumer, "--name", "Portal", "--capabilities", "consumer", "--as", "NDC.OPERATOR");

    expect(key.jwk.kty).toBe("OKP");
    expect(system).toMatchObject({ id: provider, capabilities: ["provider"], endpointStatus: "pending" });
    expect(pending).toMatch(/^id\s+agencyCode\s+endpoint\s+endpointStatus\n/);
    expect(pending).toContain(`${provider}  P${run}`);
    expect(pending).toMatch(/\spending\n/);
    expect(approved.endpointStatus).toBe("approved");
    expect(await ok("agencies", "list", "--limit", "100", "--as", consumer)).toMatch(/^code\s+level/);
  });

  it("loads the dictionary sample, publishes a schema, and validates an NDJSON file against it locally", async () => {
    const sample = (name: string) => new URL(`../../demo/dictionary/${name}`, import.meta.url).pathname;
    for (const list of ["gender.json", "nationality.json", "province.json"]) {
      await ok("codes", "add", sample(list), "--as", "NDC.OPERATOR");
    }
    await ok("fields", "add", sample("fields.json"), "--as", "NDC.OPERATOR");
    const schemaId = `P${run}.CITIZEN`;
    writeFileSync(
      join(folder, "schema.json"),
      JSON.stringify({ ...JSON.parse(readFileSync(sample("citizen-schema.json"), "utf8")), id: schemaId }),
    );
    await ok("schemas", "publish", "schema.json", "--as", provider);
    const jsonSchema = JSON.parse(await ok("schemas", "show", schemaId)) as { $id: string };
    writeFileSync(
      join(folder, "citizens.ndjson"),
      [population[0], { ...population[1], birthDate: "2001-02-31", gender: "x" }, population[2]]
        .map((record) => JSON.stringify(record))
        .join("\n"),
    );
    const valid = await dscp("validate", schemaId, "1.0.0", "citizens.ndjson");

    expect(jsonSchema.$id).toBe(`urn:dscp:schema:${schemaId}:1.0.0`);
    expect(await ok("codes", "list", "ADMIN_UNIT_PROVINCE", "--limit", "100")).toContain("Thành phố Hồ Chí Minh");
    expect(valid.code).toBe(1);
    expect(valid.out).toContain('line 2: birthDate: format: must match format "date"');
    expect(valid.out).toContain("line 2: gender: enum: must be one of the allowed values (female, male, other)");
    expect(valid.out).toContain("2 valid, 1 invalid of 3 records");
  });

  it("pushes an NDJSON file of operations into the integrated database and follows it to completion", async () => {
    writeFileSync(
      join(folder, "register.json"),
      JSON.stringify(
        citizensDataset(`${provider}.REGISTER`, provider, {
          methods: ["integrated"],
          schema: { id: `P${run}.CITIZEN`, version: "1.0.0" },
        }),
      ),
    );
    await ok("datasets", "publish", "register.json", "--as", provider);
    writeFileSync(
      join(folder, "operations.ndjson"),
      [population[3], { ...population[4], birthDate: "2001-02-31" }, population[5]]
        .map((record) => JSON.stringify({ op: "upsert", record }))
        .join("\n"),
    );
    const pushed = await dscp("sync", "push", `${provider}.REGISTER`, "operations.ndjson", "--as", provider);
    const again = await dscp("sync", "push", `${provider}.REGISTER`, "operations.ndjson", "--as", provider);

    expect(pushed.code).toBe(1);
    expect(pushed.out).toMatch(/: completed; received 3, applied 2 \(unchanged 0\), rejected 1/);
    expect(pushed.out).toContain('line 2: birthDate: format: must match format "date"');
    expect(pushed.err).toMatch(/\[#+\] 1\/1 parts, 2 applied, 1 rejected/);
    // The batch id follows from the file's content: pushing it again changes nothing.
    expect(again.out).toBe(pushed.out);
  });

  it("publishes a dataset from a file and finds it in the public catalog", async () => {
    const file = join(folder, "dataset.json");
    writeFileSync(file, JSON.stringify(citizensDataset(dataset, provider)));

    expect(await ok("datasets", "publish", "dataset.json", "--as", provider, "-q")).toBe(`${dataset}\n`);
    expect(await ok("datasets", "list", "--agency", `P${run}`)).toContain(dataset);
  });

  it("asks for access, and the provider sees the request and approves fewer fields", async () => {
    const requestId = (
      await ok("request", dataset, "--fields", "personalId,fullName,province", ...terms, "--as", consumer, "-q")
    ).trim();
    const pending = await ok("requests", "--view", "provider", "--status", "pending", "--as", provider);
    permissionId = (
      await ok(
        "decide",
        requestId,
        "approve",
        "--reason",
        "Enrolment is a public service",
        "--fields",
        "personalId,province",
        "--as",
        provider,
        "-q",
      )
    ).trim();

    expect(requestId).toMatch(/^REQ-/);
    expect(pending).toContain(requestId);
    expect(permissionId).toMatch(/^PRM-/);
    expect(await ok("permissions", "--as", consumer)).toContain(permissionId);
  });

  it("queries records: permitted fields only, and a clear refusal for the others", async () => {
    const record = JSON.parse(await ok("query", dataset, someone.personalId, "--as", consumer));
    const table = await ok("query", dataset, "--where", `province=${someone.province}`, "--as", consumer);
    const refused = await dscp("query", dataset, someone.personalId, "--fields", "fullName", "--as", consumer);

    expect(record).toEqual({ personalId: someone.personalId, province: someone.province });
    expect(table.split("\n")[0]).toMatch(/^personalId\s+province$/);
    expect(table).toContain(someone.personalId);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("403 urn:dscp:problem:access:field-not-permitted");
    expect(refused.err).toContain("fullName: not a permitted field");
  });

  it("queries for an end user and a case, which the provider receives in the platform's token", async () => {
    const record = JSON.parse(
      await ok("query", dataset, someone.personalId, "--user", "Trần Văn Bình", "--case", "HS-77", "--as", consumer),
    );

    expect(record).toHaveProperty("personalId", someone.personalId);
    expect(upstream.calls.at(-1)).toMatchObject({ verified: true, endUser: "Trần Văn Bình", caseRef: "HS-77" });
  });

  it("rotates a key, revokes the old one, and keeps working with the new one", async () => {
    const rotated = await dscp("keys", "rotate", consumer, "--as", consumer);
    const oldKid = String(/dscp keys revoke \S+ (\S+)/.exec(rotated.err)?.[1]);
    const revoked = JSON.parse(await ok("keys", "revoke", consumer, oldKid, "--as", consumer));
    const withOldKey = await dscp("query", dataset, someone.personalId, "--key", `keys/${consumer}.${oldKid}.json`);

    expect(rotated.code).toBe(0);
    expect(revoked).toMatchObject({ systemId: consumer, kid: oldKid, status: "revoked" });
    expect(withOldKey.code).toBe(1);
    expect(withOldKey.err).toContain("401 urn:dscp:problem:auth:revoked-key");
    expect(JSON.parse(await ok("query", dataset, someone.personalId, "--as", consumer))).toHaveProperty("personalId");
  });

  it("shows the consumer its calls in the log, and the operator a verified chain", async () => {
    // Entries reach the log through its queue: wait until the allowed and the refused call are in.
    const outcomes = await eventually(async () => {
      const page = JSON.parse(await ok("logs", "--as", consumer, "--json", "--limit", "100")) as {
        items: Array<{ datasetId: string; outcome: string }>;
      };
      const found = new Set(page.items.filter((entry) => entry.datasetId === dataset).map((entry) => entry.outcome));
      return found.has("allowed") && found.has("denied") ? found : undefined;
    });
    const verify = await dscp("verify", "--as", "NDC.OPERATOR");

    expect([...outcomes].sort()).toEqual(["allowed", "denied"]);
    expect(verify.code).toBe(0);
    expect(verify.out).toMatch(/^valid: \d+ entries in 8 chains/);
  });

  it("revokes the permission, after which the query is refused", async () => {
    await ok("revoke", permissionId, "--reason", "Enrolment period over", "--as", provider);
    const refused = await dscp("query", dataset, someone.personalId, "--as", consumer);

    expect(refused.code).toBe(1);
    expect(refused.err).toContain("urn:dscp:problem:access:permission-revoked");
  });

  it("refuses bad command lines with usage errors (exit 2), before calling anything", async () => {
    const unknown = await dscp("agencies", "remove", "X");
    const missing = await dscp("request", dataset, "--fields", "personalId", "--as", consumer);
    const overwrite = await dscp("keygen", provider);

    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.err).toContain("unknown command: agencies remove X");
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.err).toContain("request needs --purpose");
    expect(overwrite).toMatchObject({ code: 2 });
    expect(overwrite.err).toContain("exists; --force replaces it");
  });

  it("runs as its own executable (npx dscp)", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["cli/dscp.mjs", "datasets", "show", dataset, "--api-url", apiUrl, "--audience", audience],
      { cwd: new URL("../..", import.meta.url).pathname },
    );

    expect(JSON.parse(stdout)).toMatchObject({ id: dataset, providerSystem: provider });
  });
});
