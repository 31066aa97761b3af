import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { type FileHandle, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { BlobNotFoundError } from '../blob-store.js';

const BLOB_ID = /^[0-9a-f]{32}$/;

function notFoundAs(error: unknown, id: string): unknown {
  return (error as NodeJS.ErrnoException).code === 'ENOENT' ? new BlobNotFoundError(id) : error;
}

function damaged(id: string, held: number, size: number): Error {
  return new Error(`blob ${id} holds ${held} of ${size} bytes; run stowage fsck`);
}

/**
 * The blob files of the fs backend. A blob is written under `tmp/`, made durable, then renamed
 * into `blobs/<shard>/<id>`. Names are random ids, never derived from tenant or key text, so no
 * key can reach outside the data directory.
 */
export class BlobFiles {
  readonly tmpDir: string;
  readonly blobDir: string;
  readonly partDir: string;

  constructor(
    dataDir: string,
    readonly fsync: boolean,
  ) {
    this.tmpDir = path.join(dataDir, 'tmp');
    this.blobDir = path.join(dataDir, 'blobs');
    this.partDir = path.join(dataDir, 'uploads');
  }

  /** The part file of a resumable upload: it survives restarts, unlike temp files. */
  partPath(uploadId: string): string {
    if (!BLOB_ID.test(uploadId)) throw new Error(`not an upload id: ${uploadId}`);
    return path.join(this.partDir, uploadId);
  }

  /**
   * Makes a complete part file also blob `id`, by a hard link: the part stays until the index
   * commit that adopts the blob, so a crash in between loses nothing.
   */
  async linkPart(uploadId: string, id: string): Promise<void> {
    await this.placeDurably(id, (target) => link(this.partPath(uploadId), target));
  }

  /** Makes new part file names durable. */
  async syncPartDir(): Promise<void> {
    if (this.fsync) await syncDirectory(this.partDir);
  }

  /** Start-up cleanup: removes part files of sessions that are gone or done. */
  async removeStaleParts(isOpen: (uploadId: string) => boolean): Promise<void> {
    // recursive: a stray directory here must not stop start-up (rm refuses directories without it).
    for (const name of await readdir(this.partDir))
      if (!isOpen(name)) await rm(path.join(this.partDir, name), { force: true, recursive: true });
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.blobDir, { recursive: true });
    await mkdir(this.partDir, { recursive: true });
  }

  newId(): string {
    return randomBytes(16).toString('hex');
  }

  tempPath(id: string): string {
    return path.join(this.tmpDir, id);
  }

  blobPath(id: string): string {
    return path.join(this.blobDir, this.blobSubpath(id));
  }

  /** A blob's path under `blobDir`, with `/` whatever the platform (a URL path for a proxy). */
  blobSubpath(id: string): string {
    if (!BLOB_ID.test(id)) throw new Error(`not a blob id: ${id}`);
    return `${id.slice(0, 2)}/${id}`;
  }

  /** A new temp file for blob `id`; with fsync on, it is flushed to disk before it closes. */
  createTempStream(id: string): WriteStream {
    return createWriteStream(this.tempPath(id), { flags: 'wx', mode: 0o600, flush: this.fsync, highWaterMark: 256 * 1024 });
  }

  /** Moves the closed, durable temp file into place under its id. */
  async moveIntoPlace(id: string): Promise<void> {
    await this.placeDurably(id, (target) => rename(this.tempPath(id), target));
  }

  /** Creates blob `id` with `place(target)` (a rename or a link), then makes its name durable. */
  private async placeDurably(id: string, place: (target: string) => Promise<void>): Promise<void> {
    const target = this.blobPath(id);
    const shard = path.dirname(target);
    try {
      await place(target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      await mkdir(shard, { recursive: true });
      await place(target);
    }
    // The new name is durable only once its directory entry is.
    if (this.fsync) await syncDirectory(shard);
  }

  async openBlob(id: string): Promise<FileHandle> {
    return open(this.blobPath(id), 'r');
  }

  /**
   * The blob, open, when it holds `size` bytes: BlobNotFoundError when there is none, and an
   * error when damage cut it short or grew it (its bytes would go out as a whole value that is not).
   */
  async openSized(id: string, size: number): Promise<FileHandle> {
    let file: FileHandle;
    try {
      file = await this.openBlob(id);
    } catch (error) {
      throw notFoundAs(error, id);
    }
    const held = (await file.stat()).size;
    if (held !== size) {
      await file.close();
      throw damaged(id, held, size);
    }
    return file;
  }

  /** The same checks as `openSized` without opening the file, for a reader that opens it itself. */
  async checkSized(id: string, size: number): Promise<void> {
    let held: number;
    try {
      held = (await stat(this.blobPath(id))).size;
    } catch (error) {
      throw notFoundAs(error, id);
    }
    if (held !== size) throw damaged(id, held, size);
  }

  async remove(id: string): Promise<void> {
    await rm(this.blobPath(id), { force: true });
  }

  async removeTemp(id: string): Promise<void> {
    await rm(this.tempPath(id), { force: true });
  }

  /** Start-up cleanup: every temp file belongs to a write that was never acknowledged. */
  async removeAllTemp(): Promise<number> {
    const names = await readdir(this.tmpDir);
    await Promise.all(names.map((name) => rm(path.join(this.tmpDir, name), { force: true, recursive: true }).catch(() => {})));
    return names.length;
  }

  /** The ids of every blob file. */
  async blobIds(): Promise<string[]> {
    const ids: string[] = [];
    for (const shard of await readdir(this.blobDir, { withFileTypes: true })) {
      if (!shard.isDirectory()) continue;
      for (const name of await readdir(path.join(this.blobDir, shard.name))) if (BLOB_ID.test(name)) ids.push(name);
    }
    return ids;
  }

  /** The upload ids of every part file. */
  async partIds(): Promise<string[]> {
    return (await readdir(this.partDir)).filter((name) => BLOB_ID.test(name));
  }

  /** Start-up cleanup: removes every blob for which `isReferenced` says no. */
  async removeOrphans(isReferenced: (id: string) => boolean): Promise<number> {
    let removed = 0;
    for (const shard of await readdir(this.blobDir, { withFileTypes: true })) {
      const shardDir = path.join(this.blobDir, shard.name);
      // A stray file where a shard directory belongs is no blob; reading it as a directory would fail start-up.
      if (!shard.isDirectory()) {
        await rm(shardDir, { force: true, recursive: true });
        removed++;
        continue;
      }
      for (const name of await readdir(shardDir)) {
        if (BLOB_ID.test(name) && isReferenced(name)) continue;
        await rm(path.join(shardDir, name), { force: true, recursive: true });
        removed++;
      }
    }
    return removed;
  }
}

/** Makes a directory's entries (a file created, renamed or removed in it) durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
