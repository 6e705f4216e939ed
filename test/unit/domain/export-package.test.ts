import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../../cli/dscp.ts";
import { RecordValidator } from "../../../domain/dictionary/validator.ts";
import { csvCell, type PackageSpec, writePackage } from "../../../domain/export/package.ts";
import { readTar, TarWriter } from "../../../domain/export/tar.ts";
import { verifyPackage } from "../../../domain/export/verify.ts";
import { exportSpecFixture, platformKeyFixture } from "./fixtures.ts";

const folder = mkdtempSync(join(tmpdir(), "export-test-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const key = platformKeyFixture("platform-key-1");
/** Citizens by the fixture's schema, every hundredth with a personal id that breaks it. */
async function* citizens(count: number) {
  for (let index = 0; index < count; index++) {
    yield {
      personalId: index % 100 === 99 ? `bad-${index}` : String(index).padStart(12, "0"),
      fullName: `Nguyễn Văn ${index}, "An"`,
      province: String(index % 34),
    };
  }
}

async function build(name: string, overrides: Partial<PackageSpec> = {}, count = 1000) {
  const path = join(folder, name);
  const out = createWriteStream(path);
  const manifest = await writePackage(exportSpecFixture(overrides), citizens(count), out, {
    signer: key.signer,
    validator: new RecordValidator(),
    keyOf: (record) => String(record.personalId),
    recordsPerFile: 300,
  });
  return { path, manifest };
}
const verifyFile = (path: string, keys = [key.jwk]) => verifyPackage(createReadStream(path), keys);

/** The archive, ungzipped, changed by `change`, gzipped again. */
function tampered(path: string, name: string, change: (tar: Buffer) => void): string {
  const tar = gunzipSync(readFileSync(path));
  change(tar);
  const target = join(folder, name);
  writeFileSync(target, gzipSync(tar));
  return target;
}

describe("export packages", () => {
  it("hold the valid records' exported fields in files of bounded size, with the schema and a signed manifest", async () => {
    const { path, manifest } = await build("package.tar.gz");
    const verdict = await verifyFile(path);

    expect(verdict).toMatchObject({ valid: true, bag: "EXP-TEST-0001", problems: [] });
    expect(manifest.records).toMatchObject({ exported: 990, withheld: 10 });
    expect(manifest.records.withheldSample[0]).toEqual({
      key: "bad-99",
      errors: [expect.objectContaining({ path: "personalId" })],
    });
    expect(manifest.files.map((file) => [file.path, file.records])).toEqual([
      ["data/records-000001.ndjson", 300],
      ["data/records-000002.ndjson", 300],
      ["data/records-000003.ndjson", 300],
      ["data/records-000004.ndjson", 90],
    ]);
    expect(verdict.manifest).toEqual(manifest);
  });

  it("is a bag that standard tools read: tar lists it, sha256sum checks its manifests", async () => {
    const { path } = await build("tools.tar.gz");
    const into = mkdtempSync(join(folder, "extract-"));
    execFileSync("tar", ["-xzf", path, "-C", into]);
    const bag = join(into, "EXP-TEST-0001");
    const payload = execFileSync("sha256sum", ["-c", "manifest-sha256.txt"], { cwd: bag, encoding: "utf8" });
    const tags = execFileSync("sha256sum", ["-c", "tagmanifest-sha256.txt"], { cwd: bag, encoding: "utf8" });
    const first = readFileSync(join(bag, "data/records-000001.ndjson"), "utf8").split("\n")[0];

    expect(payload.trim().split("\n")).toHaveLength(5);
    expect(payload).not.toContain("FAILED");
    expect(tags).not.toContain("FAILED");
    expect(readFileSync(join(bag, "bagit.txt"), "utf8")).toBe(
      "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    );
    expect(readFileSync(join(bag, "bag-info.txt"), "utf8")).toMatch(/^Payload-Oxum: \d+\.5$/m);
    expect(JSON.parse(String(first))).toEqual({ personalId: "000000000000", province: "0" });
    // The packaged schema describes the exported records: the other fields are gone.
    expect(JSON.parse(readFileSync(join(bag, "data/schema.json"), "utf8"))).toMatchObject({
      properties: { personalId: expect.any(Object), province: expect.any(Object) },
      required: ["personalId"],
      "x-dscp-fields": ["personalId", "province"],
    });
    expect(Object.keys(JSON.parse(readFileSync(join(bag, "data/schema.json"), "utf8")).properties)).toEqual([
      "personalId",
      "province",
    ]);
  });

  it("fails verification, naming the file, when one byte of a data file changes", async () => {
    const { path } = await build("one-byte.tar.gz");
    const changed = tampered(path, "one-byte-changed.tar.gz", (tar) => {
      const at = tar.indexOf("000000000005");
      tar[at] = "9".charCodeAt(0);
    });

    const verdict = await verifyFile(changed);

    expect(verdict.valid).toBe(false);
    expect(verdict.problems).toEqual(
      expect.arrayContaining([
        { file: "data/records-000001.ndjson", problem: "its SHA-256 does not match manifest-sha256.txt" },
      ]),
    );
  });

  it("fails verification when a byte of the compressed archive changes", async () => {
    const { path } = await build("gz.tar.gz");
    const bytes = readFileSync(path);
    const at = Math.floor(bytes.length / 3);
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    writeFileSync(join(folder, "gz-changed.tar.gz"), bytes);

    const verdict = await verifyFile(join(folder, "gz-changed.tar.gz"));

    expect(verdict.valid).toBe(false);
    expect(verdict.problems.length).toBeGreaterThan(0);
  });

  it("fails the signature when the manifest is rewritten, even with every checksum made to match", async () => {
    const { path } = await build("rewritten.tar.gz");
    const into = mkdtempSync(join(folder, "rewrite-"));
    execFileSync("tar", ["-xzf", path, "-C", into]);
    const bag = join(into, "EXP-TEST-0001");
    const manifestPath = join(bag, "dscp-manifest.json");
    writeFileSync(manifestPath, readFileSync(manifestPath, "utf8").replace("provincial archive", "a private buyer"));
    const tagManifest = readFileSync(join(bag, "tagmanifest-sha256.txt"), "utf8").replace(
      /^[0-9a-f]{64}(?= {2}dscp-manifest\.json$)/m,
      createHash("sha256").update(readFileSync(manifestPath)).digest("hex"),
    );
    writeFileSync(join(bag, "tagmanifest-sha256.txt"), tagManifest);
    execFileSync("tar", ["-czf", join(folder, "rewritten-changed.tar.gz"), "-C", into, "EXP-TEST-0001"]);

    const verdict = await verifyFile(join(folder, "rewritten-changed.tar.gz"));

    expect(verdict.valid).toBe(false);
    expect(verdict.problems).toEqual([
      {
        file: "dscp-manifest.json.jws",
        problem: "does not verify: dscp-manifest.json is not what the platform signed",
      },
    ]);
  });

  it("fails the signature against any key but the platform's", async () => {
    const { path } = await build("other-key.tar.gz");
    const impostor = platformKeyFixture("platform-key-1");

    const verdict = await verifyFile(path, [impostor.jwk]);
    const unknown = await verifyFile(path, [{ ...key.jwk, kid: "another" }]);

    expect(verdict.problems).toEqual([expect.objectContaining({ file: "dscp-manifest.json.jws" })]);
    expect(unknown.problems[0]?.problem).toContain("not among the platform's published keys");
  });

  it("writes CSV with a header per file and RFC 4180 quoting", async () => {
    const { path } = await build("package.csv.tar.gz", { format: "csv", fields: ["personalId", "fullName"] }, 3);
    const into = mkdtempSync(join(folder, "csv-"));
    execFileSync("tar", ["-xzf", path, "-C", into]);

    expect(readFileSync(join(into, "EXP-TEST-0001/data/records-000001.csv"), "utf8")).toBe(
      'personalId,fullName\r\n000000000000,"Nguyễn Văn 0, ""An"""\r\n000000000001,"Nguyễn Văn 1, ""An"""\r\n000000000002,"Nguyễn Văn 2, ""An"""\r\n',
    );
    expect(csvCell(null)).toBe("");
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
  });

  it("closes a data file once it reaches its byte bound, a line longer than the room left kept whole", async () => {
    const long = "Đ".repeat(100_000); // 200,000 bytes of UTF-8
    async function* records() {
      yield { personalId: "000000000001", fullName: "An" };
      yield { personalId: "000000000002", fullName: long };
      yield { personalId: "000000000003", fullName: "Bình" };
    }
    const path = join(folder, "bytes.tar.gz");
    const manifest = await writePackage(
      exportSpecFixture({ fields: ["personalId", "fullName"] }),
      records(),
      createWriteStream(path),
      {
        signer: key.signer,
        validator: new RecordValidator(),
        keyOf: (record) => String(record.personalId),
        bytesPerFile: 100,
      },
    );
    const into = mkdtempSync(join(folder, "bytes-"));
    execFileSync("tar", ["-xzf", path, "-C", into]);
    const first = readFileSync(join(into, "EXP-TEST-0001/data/records-000001.ndjson"), "utf8");

    expect((await verifyFile(path)).valid).toBe(true);
    expect(manifest.files.map((file) => file.records)).toEqual([2, 1]);
    expect(manifest.files[0]?.bytes).toBe(Buffer.byteLength(first));
    expect(first.split("\n").map((line) => (line ? JSON.parse(line).fullName : line))).toEqual(["An", long, ""]);
  });
});

async function* once(bytes: Buffer) {
  yield bytes;
}

describe("dscp export verify", () => {
  it("says valid with the bag's contents, or names each problem, exiting 0 or 1, with the key set as a file", async () => {
    const { path } = await build("cli.tar.gz");
    const changed = tampered(path, "cli-changed.tar.gz", (tar) => {
      tar[tar.indexOf("000000000500")] = "9".charCodeAt(0);
    });
    const keys = join(folder, "platform-keys.json");
    writeFileSync(keys, JSON.stringify({ keys: [key.jwk] }));
    const run = async (file: string) => {
      let stdout = "";
      const code = await runCli(["export", "verify", file, "--keys", keys], {
        stdout: (text: string) => {
          stdout += text;
        },
        stderr: () => undefined,
      } as never);
      return { code, stdout };
    };

    const good = await run(path);
    const bad = await run(changed);

    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(
      /^valid: EXP-TEST-0001, 11 files; 990 records of MPS.POPULATION.REGISTER \(MPS.CITIZEN 1.0.0\) for HCM.PORTAL/,
    );
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("data/records-000002.ndjson: its SHA-256 does not match manifest-sha256.txt");
  });
});

describe("ustar", () => {
  it("round-trips names longer than 100 bytes and empty files, and refuses a cut-short archive", async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on("data", (chunk: Buffer) => chunks.push(chunk));
    const tar = new TarWriter(out);
    const long = `${"d".repeat(90)}/${"f".repeat(60)}.txt`;
    await tar.file(long, 5, Buffer.from("hello"));
    await tar.file("empty.txt", 0, Buffer.alloc(0));
    await tar.finish();
    out.end();
    const archive = Buffer.concat(chunks);
    const read: Array<[string, string]> = [];
    await readTar(once(archive), {
      file(name) {
        const parts: Buffer[] = [];
        read.push([name, ""]);
        return (chunk) => {
          parts.push(chunk);
          (read.at(-1) as [string, string])[1] = Buffer.concat(parts).toString();
        };
      },
    });

    expect(read).toEqual([
      [long, "hello"],
      ["empty.txt", ""],
    ]);
    await expect(readTar(once(archive.subarray(0, 700)), { file: () => () => undefined })).rejects.toThrow(
      /cut short|middle/,
    );
  });
});
