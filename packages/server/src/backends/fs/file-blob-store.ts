import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat, truncate } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Durability } from '../../config.js';
import type {
  AppendChunkOptions,
  BlobLocation,
  BlobStore,
  LocateBlobOptions,
  PutBlobOptions,
  ReadBlobOptions,
  Staging,
} from '../blob-store.js';
import { BlobFiles } from './blob-files.js';
import { DiskSpace, type DiskSpaceOptions } from './disk-space.js';
import { EarlyWriteback } from './early-writeback.js';

/** How often a body of unknown length is checked against the free-space reserve. */
const RESERVE_CHECK_BYTES = 4 * 1024 * 1024;
/**
 * Read size of a blob download. Each read is one syscall and one chunk through the stream and the
 * socket: at 256 KiB a download peaks near 1 GB/s here, at 1 MiB near 1.8 GB/s (docs/BENCHMARKS.md).
 * It costs at most 1 MiB (twice, with the chunk in the socket's queue) per download in progress;
 * a smaller blob or range reads only what it holds.
 */
const READ_CHUNK_BYTES = 1024 * 1024;
/** How much of a blob is written between two early syncs (EarlyWriteback). */
const EARLY_WRITEBACK_BYTES = 64 * 1024 * 1024;
/** The same for an upload's chunk, which is synced whole at every checkpoint (64 MiB by default). */
const CHUNK_WRITEBACK_BYTES = 16 * 1024 * 1024;

export interface FileBlobStoreOptions {
  readonly dataDir: string;
  readonly durability: Durability;
  /** Free-space reserve and ballast. */
  readonly disk: DiskSpaceOptions;
}

/**
 * Blobs as files in the data directory: written to `tmp/`, fsynced, renamed to
 * `blobs/<shard>/<id>`. An upload's chunks are appended to its part file `uploads/<id>`, and the
 * complete part becomes a blob by a hard link, so completion copies nothing. An open read keeps
 * a blob's bytes even once it is removed, so replaced blobs can go at once.
 */
export class FileBlobStore implements BlobStore {
  readonly replacedBlobGraceMs = 0;
  private readonly files: BlobFiles;
  private readonly disk: DiskSpace;

  private constructor(options: FileBlobStoreOptions) {
    this.files = new BlobFiles(options.dataDir, options.durability === 'full');
    this.disk = new DiskSpace(options.dataDir, options.disk);
  }

  /** Creates the folders, measures the disk and removes temp files a crash left. */
  static async open(options: FileBlobStoreOptions): Promise<FileBlobStore> {
    const store = new FileBlobStore(options);
    await store.files.init();
    await store.disk.init();
    await store.files.removeAllTemp();
    return store;
  }

  newBlobId(): string {
    return this.files.newId();
  }

  admit(bytes: number | undefined): Promise<void> {
    return this.disk.assertRoomFor(bytes);
  }

  async put({ blobId, body, size, signal }: PutBlobOptions): Promise<void> {
    const disk = this.disk;
    const file = this.files.createTempStream(blobId);
    const writeback = this.files.fsync ? new EarlyWriteback(file, EARLY_WRITEBACK_BYTES) : undefined;
    // A body of unknown length was admitted with nothing reserved: it is measured against the
    // reserve as it grows, so one such body cannot eat the room every other write needs.
    const checked = async function* () {
      let unchecked = 0;
      for await (const chunk of body) {
        if (size === undefined) {
          unchecked += chunk.length;
          if (unchecked >= RESERVE_CHECK_BYTES) {
            await disk.assertRoomFor(unchecked);
            unchecked = 0;
          }
        }
        writeback?.wrote(chunk.length);
        yield chunk;
      }
      await writeback?.settled();
    };
    try {
      await pipeline(checked, file, { signal });
      await this.files.moveIntoPlace(blobId);
    } catch (error) {
      await this.files.removeTemp(blobId);
      await this.files.remove(blobId);
      throw error;
    }
  }

  async read({ blobId, start, end, size }: ReadBlobOptions): Promise<Readable> {
    // A blob cut short by damage would go out as a 200 whose body ends early: refuse it whole.
    const file = await this.files.openSized(blobId, size);
    return file.createReadStream({ start, end, highWaterMark: READ_CHUNK_BYTES });
  }

  /** The blob's file, for a proxy in front that sends it itself (nginx's X-Accel-Redirect). */
  async locate({ blobId, size }: LocateBlobOptions): Promise<BlobLocation> {
    await this.files.checkSized(blobId, size);
    return { kind: 'file', path: this.files.blobSubpath(blobId) };
  }

  delete(blobId: string): Promise<void> {
    return this.files.remove(blobId);
  }

  async blobSize(blobId: string): Promise<number | undefined> {
    try {
      return (await stat(this.files.blobPath(blobId))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  chunkNeedsPart(): boolean {
    return false;
  }

  async appendChunk({ uploadId, offset, length, body, signal }: AppendChunkOptions): Promise<Staging> {
    await this.disk.assertRoomFor(length);
    const part = this.files.partPath(uploadId);
    await this.ensurePart(uploadId);
    // Bytes past `offset` belong to a chunk that was never acknowledged: drop them. The part
    // holds at least `offset` bytes (heldBytes checked), so this never pads.
    await truncate(part, offset);
    const file = createWriteStream(part, { flags: 'a', flush: this.files.fsync, highWaterMark: 256 * 1024 });
    // A long chunk (or piece of one) is written back as it arrives, as a blob is: the fsync that
    // makes it durable before its offset advances then has only the tail left.
    const writeback = this.files.fsync ? new EarlyWriteback(file, CHUNK_WRITEBACK_BYTES) : undefined;
    const counted = async function* () {
      try {
        for await (const chunk of body) {
          writeback?.wrote(chunk.length);
          yield chunk;
        }
      } finally {
        // Also when the body fails: the file is not closed beneath a sync under way.
        await writeback?.settled();
      }
    };
    await pipeline(counted, file, { signal });
    return null;
  }

  async heldBytes({ uploadId }: { uploadId: string }): Promise<number> {
    try {
      return (await stat(this.files.partPath(uploadId))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
  }

  /** The part's first `length` bytes, to hash them again when a session's running hash is lost. */
  readStaged({ uploadId, length }: { uploadId: string; staging: Staging; length: number }): Readable {
    if (length === 0) return Readable.from([]);
    return createReadStream(this.files.partPath(uploadId), { end: length - 1 });
  }

  async assemble({ uploadId }: { uploadId: string; staging: Staging; size: number }): Promise<{ blobId: string; staging: Staging }> {
    const blobId = this.files.newId();
    // A link, not a move: the part stays until the commit that adopts the blob, so a crash in
    // between loses nothing (the unreferenced link is an orphan the start-up sweep removes).
    await this.files.linkPart(uploadId, blobId);
    return { blobId, staging: null };
  }

  async releaseAssembled({ blobId }: { blobId: string }): Promise<void> {
    await this.files.remove(blobId);
  }

  async finishUpload({ uploadId }: { uploadId: string }): Promise<void> {
    await rm(this.files.partPath(uploadId), { force: true });
  }

  async discardUpload({ uploadId }: { uploadId: string }): Promise<void> {
    await rm(this.files.partPath(uploadId), { force: true });
  }

  async sweepOrphans(options: {
    knownBlobs: (blobIds: readonly string[]) => Promise<Set<string>>;
    isUploadOpen: (uploadId: string) => Promise<boolean>;
    now: number;
    graceMs: number;
  }): Promise<number> {
    const oldEnough = async (file: string) => options.graceMs === 0 || (await ageMs(file, options.now)) > options.graceMs;
    const known = new Set<string>();
    const ids = await this.files.blobIds();
    for (let i = 0; i < ids.length; i += 1000) {
      const batch = ids.slice(i, i + 1000);
      const named = await options.knownBlobs(batch);
      for (const id of batch) if (named.has(id) || !(await oldEnough(this.files.blobPath(id)))) known.add(id);
    }
    const removed = await this.files.removeOrphans((id) => known.has(id));
    const open = new Set<string>();
    for (const id of await this.files.partIds())
      if ((await options.isUploadOpen(id)) || !(await oldEnough(this.files.partPath(id)))) open.add(id);
    await this.files.removeStaleParts((id) => open.has(id));
    return removed;
  }

  relieveSpace(): Promise<boolean> {
    return this.disk.releaseBallast();
  }

  checkReady(): Promise<void> {
    return this.disk.assertReady();
  }

  async close(): Promise<void> {}

  /** Creates the part file (durably) on the first chunk. */
  private async ensurePart(uploadId: string): Promise<void> {
    const part = this.files.partPath(uploadId);
    try {
      await stat(part);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await (await open(part, 'a', 0o600)).close();
    // The new name must survive a crash, or the bytes appended later would vanish with it.
    await this.files.syncPartDir();
  }
}

async function ageMs(file: string, now: number): Promise<number> {
  try {
    return now - (await stat(file)).mtimeMs;
  } catch {
    return 0;
  }
}
