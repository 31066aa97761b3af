import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Location } from '../../config.js';
import { exactly } from '../s3/s3-bodies.js';
import { S3Bucket } from '../s3/s3-bucket.js';
import { createS3Client, DEFAULT_TIMEOUT_MS, describeEndpoint } from '../s3/s3-client.js';
import { openError } from '../s3/s3-errors.js';
import { putBlob } from '../s3/s3-put.js';

/**
 * Where a backup is kept: a directory, or a prefix in an S3 bucket. Both hold named entries:
 * `manifest.json`, `index.sqlite` (or `index.pgdump`), `secret.key`, `blobs/<id>` and
 * `uploads/<upload id>`. An entry is written whole or not at all.
 */
export interface BackupStore {
  /** A path, or s3://BUCKET/PREFIX: for messages. */
  readonly location: string;
  /** The entry's size, or undefined when there is none. */
  size(name: string): Promise<number | undefined>;
  /** The entry's bytes, or undefined when there is none. */
  read(name: string): Promise<Readable | undefined>;
  /** The blobs it holds and their sizes, in blob id order, where a listing is cheaper than `size` for each. */
  listBlobs?(): AsyncIterable<{ blobId: string; size: number }>;
  /** Stores exactly `size` bytes of `body` as `name`, in place of what was there; whole or not at all. */
  write(name: string, body: AsyncIterable<Buffer>, size: number): Promise<void>;
  remove(name: string): Promise<void>;
  /** A local directory for files that become entries by `adopt`: the backup directory's own tmp/, else a temporary one. */
  workDir(): Promise<string>;
  /** Makes the local file `file` (in `workDir`) the entry `name`, in place of what was there. */
  adopt(name: string, file: string): Promise<void>;
  /** Makes every entry written so far durable (a directory's new names included). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const ENTRY = /^(manifest\.json|index\.sqlite|index\.pgdump|secret\.key|(blobs|uploads)\/[0-9a-f]{32})$/;

function checkName(name: string): string {
  if (!ENTRY.test(name)) throw new Error(`not an entry of a backup: ${name}`);
  return name;
}

/** Opens the backup at `location`: `s3://BUCKET/PREFIX` (reached as `s3` says) or a directory. */
export async function openBackupStore(location: string, s3: S3Location | undefined): Promise<BackupStore> {
  if (s3) return S3BackupStore.open(s3);
  return new DirectoryBackupStore(path.resolve(location));
}

/**
 * A backup in a directory: blobs under `blobs/<xx>/<id>` as in a data directory, each entry
 * written to `tmp/`, flushed, then renamed into place. Files are mode 0600: a backup holds
 * everyone's data and the server secret.
 */
export class DirectoryBackupStore implements BackupStore {
  private readonly unsynced = new Set<string>();

  constructor(readonly location: string) {}

  private pathOf(name: string): string {
    checkName(name);
    const [folder, id] = name.split('/');
    if (folder === 'blobs' && id) return path.join(this.location, 'blobs', id.slice(0, 2), id);
    return path.join(this.location, name);
  }

  async size(name: string): Promise<number | undefined> {
    try {
      const stats = await stat(this.pathOf(name));
      return stats.isFile() ? stats.size : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async read(name: string): Promise<Readable | undefined> {
    const file = this.pathOf(name);
    try {
      const handle = await open(file, 'r');
      return handle.createReadStream({ highWaterMark: 1024 * 1024 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async write(name: string, body: AsyncIterable<Buffer>, size: number): Promise<void> {
    const target = this.pathOf(name);
    const tmpDir = path.join(this.location, 'tmp');
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
    const temp = path.join(tmpDir, `${path.basename(target)}.${randomBytes(6).toString('hex')}`);
    try {
      // flush: the bytes are on disk before the rename makes them the entry.
      await pipeline(
        exactly(body, size, name),
        createWriteStream(temp, { flags: 'wx', mode: 0o600, flush: true, highWaterMark: 1024 * 1024 }),
      );
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    this.unsynced.add(path.dirname(target));
  }

  async remove(name: string): Promise<void> {
    await rm(this.pathOf(name), { force: true });
    this.unsynced.add(path.dirname(this.pathOf(name)));
  }

  async workDir(): Promise<string> {
    const dir = path.join(this.location, 'tmp');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  async adopt(name: string, file: string): Promise<void> {
    const handle = await open(file, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    const target = this.pathOf(name);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    await rename(file, target);
    this.unsynced.add(path.dirname(target));
  }

  async flush(): Promise<void> {
    const dirs = [...this.unsynced];
    this.unsynced.clear();
    // Shard directories first, then the folders above them, so each new name is reachable.
    dirs.push(path.join(this.location, 'blobs'), this.location, path.dirname(this.location));
    for (const dir of dirs) await syncDirectory(dir);
  }

  async close(): Promise<void> {
    // What an interrupted write left; nothing else lives in tmp/.
    const tmpDir = path.join(this.location, 'tmp');
    const left = await readdir(tmpDir).catch(() => undefined);
    if (left && left.length === 0) await rm(tmpDir, { recursive: true, force: true });
  }

  /** Removes what interrupted writes left in tmp/ (a backup that was killed). */
  async clearTemp(): Promise<void> {
    await rm(path.join(this.location, 'tmp'), { recursive: true, force: true });
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(dir, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A backup under a prefix of an S3 bucket: `PREFIX/blobs/<id>` as the S3 blob store keeps blobs,
 * so the copy can serve as a blob store itself. Written with the blob store's own code: a
 * streamed PutObject, or a multipart upload of streamed parts for large entries; an object
 * appears only once whole.
 */
export class S3BackupStore implements BackupStore {
  private temp: string | undefined;

  private constructor(
    private readonly bucket: S3Bucket,
    private readonly root: string,
    readonly location: string,
  ) {}

  static async open(s3: S3Location): Promise<S3BackupStore> {
    const client = createS3Client({ ...s3, timeoutMs: DEFAULT_TIMEOUT_MS });
    const bucket = new S3Bucket(client, s3.bucket, DEFAULT_TIMEOUT_MS);
    try {
      await bucket.headBucket(AbortSignal.timeout(DEFAULT_TIMEOUT_MS));
    } catch (error) {
      client.destroy();
      throw openError(error, { bucket: s3.bucket, where: describeEndpoint(s3), region: s3.region, chain: !s3.credentials });
    }
    const root = s3.prefix === '' ? '' : `${s3.prefix}/`;
    return new S3BackupStore(bucket, root, `s3://${s3.bucket}/${s3.prefix}`);
  }

  private keyOf(name: string): string {
    return this.root + checkName(name);
  }

  size(name: string): Promise<number | undefined> {
    return this.bucket.size(this.keyOf(name));
  }

  async read(name: string): Promise<Readable | undefined> {
    return (await this.bucket.get(this.keyOf(name)))?.body;
  }

  async *listBlobs(): AsyncGenerator<{ blobId: string; size: number }> {
    const prefix = `${this.root}blobs/`;
    for await (const object of this.bucket.list(prefix)) {
      const blobId = object.key.slice(prefix.length);
      if (/^[0-9a-f]{32}$/.test(blobId)) yield { blobId, size: object.size };
    }
  }

  write(name: string, body: AsyncIterable<Buffer>, size: number): Promise<void> {
    return putBlob(this.bucket, this.keyOf(name), { blobId: name, body, size });
  }

  remove(name: string): Promise<void> {
    return this.bucket.delete(this.keyOf(name));
  }

  async workDir(): Promise<string> {
    this.temp ??= await mkdtemp(path.join(tmpdir(), 'stowage-backup-'));
    return this.temp;
  }

  async adopt(name: string, file: string): Promise<void> {
    await writeFile(this, name, file);
    await rm(file, { force: true });
  }

  /** An S3 PUT is durable once answered. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.bucket.client.destroy();
    if (this.temp) await rm(this.temp, { recursive: true, force: true });
  }
}

/** Streams a local file into the store as `name`. */
export async function writeFile(store: BackupStore, name: string, file: string): Promise<number> {
  const { size } = await stat(file);
  await store.write(name, createReadStream(file, { highWaterMark: 1024 * 1024 }), size);
  return size;
}
