import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The fauxqs S3 store's surface this runtime relies on (fauxqs 1.9.x, pinned). */
interface S3ObjectLike {
  key: string;
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
  metadata: Record<string, string>;
}
interface S3StoreLike {
  createBucket(name: string): void;
  deleteBucket(name: string): void;
  putObject(
    bucket: string,
    key: string,
    body: Buffer,
    contentType?: string,
    metadata?: Record<string, string>,
  ): S3ObjectLike;
  deleteObject(bucket: string, key: string): void;
  completeMultipartUpload(uploadId: string, parts: { partNumber: number; etag: string }[]): S3ObjectLike;
  emptyBucket(name: string): void;
  clearObjects(): void;
  purgeAll(): void;
  listBuckets(): { name: string }[];
  hasBucket(name: string): boolean;
}
type S3StoreClass = new () => S3StoreLike;

/**
 * fauxqs keeps S3 in memory. Its store classes are not exported, so they are loaded from the
 * installed package by file path; the version is pinned in package.json.
 */
export async function loadFauxqsStores(): Promise<{
  S3Store: S3StoreClass;
  SqsStore: new () => object;
  SnsStore: new () => object;
}> {
  const [s3, sqs, sns] = await Promise.all([
    loadFauxqsModule("s3/s3Store.js"),
    loadFauxqsModule("sqs/sqsStore.js"),
    loadFauxqsModule("sns/snsStore.js"),
  ]);
  return { S3Store: s3.S3Store, SqsStore: sqs.SqsStore, SnsStore: sns.SnsStore };
}

/**
 * One module of the installed fauxqs by its path under `dist/` (the package exports only its
 * entry point), the same instance fauxqs itself imports.
 */
export async function loadFauxqsModule(path: string) {
  // Resolved through node_modules lookup paths: the package exports only its entry point.
  const lookup = createRequire(import.meta.url).resolve.paths("fauxqs") ?? [];
  const packageDir = lookup.map((dir) => join(dir, "fauxqs")).find((dir) => existsSync(join(dir, "package.json")));
  if (!packageDir) throw new Error("fauxqs is not installed");
  return import(pathToFileURL(join(packageDir, "dist", path)).href);
}

interface StoredMeta {
  key: string;
  contentType: string;
  etag: string;
  lastModified: string;
  metadata: Record<string, string>;
}

/**
 * Makes a fauxqs S3 store durable: every bucket and object change is written through to
 * `directory` (one folder per bucket, a body and a metadata file per object), and the store is
 * reloaded from it on start. Multipart parts stay in memory until completed.
 */
export function persistentS3Store(Base: S3StoreClass, directory: string): S3StoreLike {
  mkdirSync(directory, { recursive: true });
  const bucketDir = (bucket: string) => join(directory, encodeURIComponent(bucket));
  const objectPath = (bucket: string, key: string) =>
    join(bucketDir(bucket), createHash("sha256").update(key).digest("hex"));
  let loading = false;

  class PersistentS3Store extends Base {
    override createBucket(name: string): void {
      super.createBucket(name);
      if (!loading) mkdirSync(bucketDir(name), { recursive: true });
    }
    override deleteBucket(name: string): void {
      super.deleteBucket(name);
      rmSync(bucketDir(name), { recursive: true, force: true });
    }
    override putObject(
      bucket: string,
      key: string,
      body: Buffer,
      contentType?: string,
      metadata?: Record<string, string>,
    ): S3ObjectLike {
      const stored = super.putObject(bucket, key, body, contentType, metadata);
      if (!loading) save(bucket, stored);
      return stored;
    }
    override completeMultipartUpload(uploadId: string, parts: { partNumber: number; etag: string }[]): S3ObjectLike {
      const stored = super.completeMultipartUpload(uploadId, parts);
      const bucket = this.listBuckets().find((candidate) => ownsObject(this, candidate.name, stored));
      if (bucket) save(bucket.name, stored);
      return stored;
    }
    override deleteObject(bucket: string, key: string): void {
      super.deleteObject(bucket, key);
      const path = objectPath(bucket, key);
      rmSync(`${path}.body`, { force: true });
      rmSync(`${path}.json`, { force: true });
    }
    override emptyBucket(name: string): void {
      super.emptyBucket(name);
      if (this.hasBucket(name)) {
        rmSync(bucketDir(name), { recursive: true, force: true });
        mkdirSync(bucketDir(name), { recursive: true });
      }
    }
    override clearObjects(): void {
      super.clearObjects();
      for (const { name } of this.listBuckets()) this.emptyBucket(name);
    }
    override purgeAll(): void {
      super.purgeAll();
      rmSync(directory, { recursive: true, force: true });
      mkdirSync(directory, { recursive: true });
    }
  }

  function save(bucket: string, stored: S3ObjectLike): void {
    const path = objectPath(bucket, stored.key);
    writeFileSync(`${path}.body`, stored.body);
    const meta: StoredMeta = {
      key: stored.key,
      contentType: stored.contentType,
      etag: stored.etag,
      lastModified: stored.lastModified.toISOString(),
      metadata: stored.metadata,
    };
    writeFileSync(`${path}.json`, JSON.stringify(meta));
  }

  const store = new PersistentS3Store();
  loading = true;
  try {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const bucket = decodeURIComponent(entry.name);
      store.createBucket(bucket);
      for (const file of readdirSync(join(directory, entry.name))) {
        if (!file.endsWith(".json")) continue;
        const meta = JSON.parse(readFileSync(join(directory, entry.name, file), "utf8")) as StoredMeta;
        const body = readFileSync(join(directory, entry.name, file.replace(/\.json$/, ".body")));
        const restored = store.putObject(bucket, meta.key, body, meta.contentType, meta.metadata);
        restored.etag = meta.etag;
        restored.lastModified = new Date(meta.lastModified);
      }
    }
  } finally {
    loading = false;
  }
  return store;
}

function ownsObject(store: S3StoreLike, bucket: string, stored: S3ObjectLike): boolean {
  const buckets = (store as unknown as { buckets: Map<string, Map<string, S3ObjectLike>> }).buckets;
  return buckets.get(bucket)?.get(stored.key) === stored;
}
