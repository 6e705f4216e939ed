import { createHash, createPublicKey, type JsonWebKey, verify } from "node:crypto";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { MANIFEST_FILE, type PackageManifest, SIGNATURE_FILE } from "./package.ts";
import { readTar } from "./tar.ts";

/** One thing wrong with a package, and the file it is in. */
export interface PackageProblem {
  readonly file: string;
  readonly problem: string;
}

export interface PackageVerdict {
  readonly valid: boolean;
  /** The bag's base directory (the export id). */
  readonly bag?: string;
  readonly files: number;
  readonly problems: readonly PackageProblem[];
  /** The DSCP manifest, when it could be read (trust it only if `valid`). */
  readonly manifest?: PackageManifest;
}

/** Tag files are read whole to be checked; anything larger is not a tag file of DSCP's. */
const MAX_TAG_BYTES = 16 * 1_048_576;

/**
 * Verifies a package offline, from its bytes and the platform's public keys alone: the archive
 * reads to its end; every payload file is in the payload manifest with the SHA-256 it has, and
 * none is missing or extra; the tag manifest matches the tag files; Payload-Oxum matches; the
 * DSCP manifest lists the same files with the same digests; and its detached signature verifies
 * with the key it names. Each problem names its file. Memory holds the tag files only.
 */
export async function verifyPackage(
  input: AsyncIterable<Buffer>,
  keys: readonly (JsonWebKey & { kid?: string })[],
): Promise<PackageVerdict> {
  const problems: PackageProblem[] = [];
  const seen = new Map<string, { sha256: string; bytes: number }>();
  const tags = new Map<string, Buffer>();
  let bag: string | undefined;
  try {
    const source = Readable.from(input);
    const gunzip = createGunzip();
    source.on("error", (error) => gunzip.destroy(error));
    await readTar(source.pipe(gunzip), {
      file(name, size) {
        const slash = name.indexOf("/");
        const root = slash === -1 ? "" : name.slice(0, slash);
        const path = slash === -1 ? name : name.slice(slash + 1);
        bag ??= root;
        if (root !== bag || path === "") problems.push({ file: name, problem: "is outside the bag's directory" });
        const hash = createHash("sha256");
        const keep = !path.startsWith("data/") && size <= MAX_TAG_BYTES ? ([] as Buffer[]) : undefined;
        let bytes = 0;
        return (chunk) => {
          hash.update(chunk);
          keep?.push(Buffer.from(chunk));
          bytes += chunk.length;
          if (bytes === size) {
            seen.set(path, { sha256: hash.digest("hex"), bytes });
            if (keep) tags.set(path, Buffer.concat(keep));
          }
        };
      },
    });
  } catch (error) {
    problems.push({ file: "(archive)", problem: `cannot be read to its end: ${(error as Error).message}` });
  }

  const text = (file: string) => tags.get(file)?.toString("utf8");
  const bagit = text("bagit.txt");
  if (!bagit) problems.push({ file: "bagit.txt", problem: "is missing" });
  else if (!/^BagIt-Version: 1\.0$/m.test(bagit))
    problems.push({ file: "bagit.txt", problem: "does not declare BagIt-Version 1.0" });

  const payload = checkManifest("manifest-sha256.txt", text("manifest-sha256.txt"), seen, problems);
  for (const path of seen.keys()) {
    if (path.startsWith("data/") && !payload.has(path)) {
      problems.push({ file: path, problem: "is not in the payload manifest (manifest-sha256.txt)" });
    }
  }
  const tagged = checkManifest("tagmanifest-sha256.txt", text("tagmanifest-sha256.txt"), seen, problems);
  for (const path of [MANIFEST_FILE, SIGNATURE_FILE, "bag-info.txt", "manifest-sha256.txt", "bagit.txt"]) {
    if (seen.has(path) && !tagged.has(path)) problems.push({ file: path, problem: "is not in the tag manifest" });
  }

  const oxum = /^Payload-Oxum: (\d+)\.(\d+)$/m.exec(text("bag-info.txt") ?? "");
  const payloadFiles = [...seen.entries()].filter(([path]) => path.startsWith("data/"));
  if (!oxum) problems.push({ file: "bag-info.txt", problem: "has no Payload-Oxum" });
  else if (
    Number(oxum[1]) !== payloadFiles.reduce((sum, [, file]) => sum + file.bytes, 0) ||
    Number(oxum[2]) !== payloadFiles.length
  ) {
    problems.push({ file: "bag-info.txt", problem: `Payload-Oxum ${oxum[1]}.${oxum[2]} does not match the payload` });
  }

  let manifest: PackageManifest | undefined;
  const manifestBytes = tags.get(MANIFEST_FILE);
  if (!manifestBytes) problems.push({ file: MANIFEST_FILE, problem: "is missing" });
  else {
    try {
      manifest = JSON.parse(manifestBytes.toString("utf8")) as PackageManifest;
      for (const file of [...manifest.files, manifest.schema.file]) {
        const found = seen.get(file.path);
        if (!found) problems.push({ file: file.path, problem: `is named by ${MANIFEST_FILE} but not in the archive` });
        else if (found.sha256 !== file.sha256 || found.bytes !== file.bytes) {
          problems.push({ file: file.path, problem: `does not match ${MANIFEST_FILE} (SHA-256 or size differs)` });
        }
      }
      const signature = text(SIGNATURE_FILE);
      if (!signature) problems.push({ file: SIGNATURE_FILE, problem: "is missing" });
      else {
        const outcome = checkSignature(signature.trim(), manifestBytes, keys);
        if (outcome) problems.push({ file: SIGNATURE_FILE, problem: outcome });
      }
    } catch (error) {
      problems.push({ file: MANIFEST_FILE, problem: `is not valid JSON: ${(error as Error).message}` });
    }
  }
  return {
    valid: problems.length === 0,
    ...(bag !== undefined ? { bag } : {}),
    files: seen.size,
    problems: dedupe(problems),
    ...(manifest ? { manifest } : {}),
  };
}

/** Checks each `<sha256>  <path>` line of a manifest against the files read; returns the paths listed. */
function checkManifest(
  name: string,
  content: string | undefined,
  seen: ReadonlyMap<string, { sha256: string }>,
  problems: PackageProblem[],
): Set<string> {
  const listed = new Set<string>();
  if (content === undefined) {
    problems.push({ file: name, problem: "is missing" });
    return listed;
  }
  for (const line of content.split("\n").filter(Boolean)) {
    const match = /^([0-9a-f]{64}) {1,2}(.+)$/.exec(line);
    if (!match) {
      problems.push({ file: name, problem: `has a line that is not '<sha256>  <path>': ${line.slice(0, 80)}` });
      continue;
    }
    const [, digest, path] = match as unknown as [string, string, string];
    listed.add(path);
    const found = seen.get(path);
    if (!found) problems.push({ file: path, problem: `is listed in ${name} but missing from the archive` });
    else if (found.sha256 !== digest) problems.push({ file: path, problem: `its SHA-256 does not match ${name}` });
  }
  return listed;
}

/** Undefined when the detached JWS verifies over the manifest with the key it names; otherwise why not. */
function checkSignature(
  jws: string,
  payload: Buffer,
  keys: readonly (JsonWebKey & { kid?: string })[],
): string | undefined {
  const [header, detached, signature] = jws.split(".");
  if (header === undefined || signature === undefined || detached !== "") {
    return "is not a compact JWS with a detached payload";
  }
  let protectedHeader: { alg?: string; kid?: string };
  try {
    protectedHeader = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as typeof protectedHeader;
  } catch {
    return "has a header that is not JSON";
  }
  if (protectedHeader.alg !== "ES256") return `is signed with ${protectedHeader.alg}, not ES256`;
  const key = keys.find((candidate) => candidate.kid === protectedHeader.kid);
  if (!key) return `names key ${protectedHeader.kid}, which is not among the platform's published keys`;
  const valid = verify(
    "sha256",
    Buffer.from(`${header}.${payload.toString("base64url")}`),
    { key: createPublicKey({ key, format: "jwk" }), dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
  return valid ? undefined : `does not verify: ${MANIFEST_FILE} is not what the platform signed`;
}

function dedupe(problems: readonly PackageProblem[]): PackageProblem[] {
  const keys = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.file}\u0000${problem.problem}`;
    if (keys.has(key)) return false;
    keys.add(key);
    return true;
  });
}
