import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StorageType } from 'stowage-client/protocol';
import type { Durability } from '../../config.js';
import { fail, isDiskFullError } from '../../errors.js';
import type { Failpoint } from '../../failpoints.js';
import type { ObjectRef } from '../../storage/object-ref.js';
import type {
  Backend,
  CompleteUploadOptions,
  ListOptions,
  ListPage,
  ObjectInfo,
  ReadPlan,
  ReadResult,
  TenantUsage,
  UploadGrantInfo,
  UploadSession,
  WriteCondition,
  WriteOptions,
} from '../backend.js';
import { assertCondition } from '../conditions.js';
import { type BodyMeter, meterBody } from '../metered-body.js';
import { BlobFiles } from './blob-files.js';
import { CommitQueue } from './commit-queue.js';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import { DiskSpace, type DiskSpaceOptions } from './disk-space.js';
import { FsUploads } from './fs-uploads.js';
import { type AnyObjectRow, type IndexDb, type ObjectRow, openIndexDb, visibleEtag } from './index-db.js';
import { prefixUpperBound } from './key-range.js';
import { TenantLedger } from './tenant-usage.js';

/** Values up to this size live in the index row: one SQLite commit instead of file + fsyncs. */
export const INLINE_MAX_BYTES = 16 * 1024;

const SWEEP_BATCH = 1000;
/** How often a body of unknown length is checked against the free-space reserve. */
const RESERVE_CHECK_BYTES = 4 * 1024 * 1024;

export interface FsBackendOptions {
  dataDir: string;
  durability: Durability;
  /** Called with problems that must not fail a request (e.g. a replaced blob that could not be removed). */
  onWarning?: (message: string, error: unknown) => void;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  /** Crash points for durability tests (see failpoints.ts). */
  failpoint?: Failpoint;
  /** Free-space reserve and ballast; defaults suit a dedicated disk. */
  disk?: DiskSpaceOptions;
  /** Quota of tenants the `tenants` table does not name; null or undefined for unlimited. */
  defaultQuotaBytes?: number | null;
}

const DEFAULT_DISK: DiskSpaceOptions = { minFreeBytes: 64 * 1024 * 1024, ballastBytes: 16 * 1024 * 1024 };

/**
 * The embedded backend: a SQLite index (the source of truth for existence and listing) and blob
 * files. A write lands as temp file → fsync → rename → index commit, so a crash at any point
 * leaves the old or the new value, never a mix; start-up removes what a crash left behind.
 */
export class FsBackend implements Backend {
  readonly index: IndexDb;
  private readonly blobs: BlobFiles;
  private readonly commits: CommitQueue;
  private readonly warn: (message: string, error: unknown) => void;
  private readonly clock: () => number;
  private readonly uploads: FsUploads;
  private readonly failpoint: Failpoint;
  private readonly disk: DiskSpace;
  private readonly ledger: TenantLedger;

  private constructor(
    options: FsBackendOptions,
    private readonly lock: DataDirLock,
  ) {
    this.failpoint = options.failpoint ?? (() => {});
    this.disk = new DiskSpace(options.dataDir, options.disk ?? DEFAULT_DISK);
    this.index = openIndexDb(path.join(options.dataDir, 'index.sqlite'), options.durability);
    this.blobs = new BlobFiles(options.dataDir, options.durability === 'full');
    this.commits = new CommitQueue(this.index.db);
    this.warn = options.onWarning ?? (() => {});
    this.clock = options.clock ?? Date.now;
    this.ledger = new TenantLedger(this.index, options.defaultQuotaBytes ?? null);
    this.uploads = new FsUploads(
      this.index,
      this.commits,
      this.blobs,
      (ref, row, commit) => this.commitRow(ref, row, commit),
      this.failpoint,
    );
  }

  /** Opens the data directory and removes temp files and orphan blobs left by a crash. */
  static async open(options: FsBackendOptions): Promise<FsBackend> {
    // Before anything else: the cleanup below would remove another live server's temp files.
    const lock = lockDataDir(options.dataDir, 'stowage serve');
    try {
      const backend = new FsBackend(options, lock);
      await backend.blobs.init();
      await backend.disk.init();
      await backend.blobs.removeAllTemp();
      const { blobInUse } = backend.index.statements;
      await backend.blobs.removeOrphans((id) => blobInUse.get(id) !== undefined);
      await backend.uploads.removeStaleParts();
      return backend;
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  async head(ref: ObjectRef, now: number): Promise<ObjectInfo | undefined> {
    const row = this.findRow(ref, now);
    return row && toInfo(row);
  }

  async read(ref: ObjectRef, now: number, plan: (info: ObjectInfo) => ReadPlan = () => ({ kind: 'all' })): Promise<ReadResult | undefined> {
    // A concurrent overwrite may remove the blob between the lookup and the open; the index then
    // already points at the new blob, so look again (the open fd keeps a blob readable after).
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = this.findRow(ref, now);
      if (!row) return undefined;
      const info = toInfo(row);
      const wanted = plan(info);
      if (wanted.kind === 'none') return { info, body: undefined, plan: wanted };
      const [start, end] = wanted.kind === 'range' ? [wanted.start, wanted.end] : [0, row.size - 1];
      if (row.inline_data) return { info, body: row.inline_data.subarray(start, end + 1), plan: wanted };
      if (!row.blob_id || row.size === 0) return { info, body: Buffer.alloc(0), plan: wanted };
      let file: FileHandle;
      try {
        file = await this.blobs.openBlob(row.blob_id);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      // A blob cut short by damage would go out as a 200 whose body ends early: refuse it whole.
      const held = (await file.stat()).size;
      if (held !== row.size) {
        await file.close();
        throw new Error(`blob ${row.blob_id} of ${ref.type}/${ref.key} holds ${held} of ${row.size} bytes; run stowage fsck`);
      }
      return { info, body: file.createReadStream({ start, end, highWaterMark: 256 * 1024 }), plan: wanted };
    }
    throw new Error(`blob of ${ref.type}/${ref.key} kept disappearing`);
  }

  async write(ref: ObjectRef, body: Readable, options: WriteOptions): Promise<ObjectInfo> {
    await this.disk.assertRoomFor(options.expectedBytes);
    const meter: BodyMeter = { bytes: 0, sha256: undefined };
    const chunks = meterBody(body, meter, options);
    const head: Buffer[] = [];
    let ended = false;
    try {
      while (meter.bytes <= INLINE_MAX_BYTES) {
        options.signal?.throwIfAborted();
        const next = await chunks.next();
        if (next.done) {
          ended = true;
          break;
        }
        head.push(next.value);
      }
    } catch (error) {
      await chunks.return(undefined);
      throw error;
    }
    const row = { size: 0, sha256: '', content_type: options.contentType, expires_at: options.expiresAt ?? null };
    const { completesUpload } = options;
    const commit = {
      condition: options.condition,
      now: options.now,
      alsoRun: completesUpload ? (info: ObjectInfo) => this.uploads.markCompleted(completesUpload, info) : undefined,
    };
    if (ended) {
      const data = Buffer.concat(head);
      assertChecksum(meter.sha256, options.expectedSha256);
      const info = await this.commitRow(
        ref,
        { ...row, size: data.length, sha256: meter.sha256 ?? '', blob_id: null, inline_data: data },
        commit,
      );
      this.failpoint('write.after-commit');
      return info;
    }
    const blobId = await this.writeBlob(head, chunks, options.signal, options.expectedBytes);
    this.failpoint('write.after-blob');
    let info: ObjectInfo;
    try {
      assertChecksum(meter.sha256, options.expectedSha256);
      info = await this.commitRow(
        ref,
        { ...row, size: meter.bytes, sha256: meter.sha256 ?? '', blob_id: blobId, inline_data: null },
        commit,
      );
    } catch (error) {
      await this.blobs.remove(blobId);
      throw error;
    }
    this.failpoint('write.after-commit');
    return info;
  }

  async delete(ref: ObjectRef, now: number, condition?: WriteCondition): Promise<boolean> {
    try {
      return await this.deleteRow(ref, now, condition);
    } catch (error) {
      // Deletes are how space comes back: on a full disk, free the ballast and commit again.
      if (!isDiskFullError(error) || !(await this.disk.releaseBallast())) throw error;
      this.warn('the disk is full: released the ballast file so deletes can commit', error);
      return this.deleteRow(ref, now, condition);
    }
  }

  private async deleteRow(ref: ObjectRef, now: number, condition: WriteCondition | undefined): Promise<boolean> {
    const { findAny, deleteById } = this.index.statements;
    const removed = await this.commits.enqueue(() => {
      const row = findAny.get(keyParams(ref)) as AnyObjectRow | undefined;
      const etag = visibleEtag(row, now);
      assertCondition(etag, condition);
      if (!row) return undefined;
      deleteById.run(row.id);
      this.ledger.charge(ref.tenant, -row.size, -1);
      return { blobId: row.blob_id, visible: etag !== undefined };
    });
    this.failpoint('delete.after-commit');
    if (removed?.blobId) this.removeBlobLater(removed.blobId);
    return removed?.visible ?? false;
  }

  async list(tenant: string, type: StorageType, options: ListOptions): Promise<ListPage> {
    const prefix = Buffer.from(options.prefix, 'utf8');
    // The smallest key after `after` is `after` + NUL, which no key contains: `>=` that is `>` after.
    const start = options.after === undefined ? prefix : Buffer.concat([Buffer.from(options.after, 'utf8'), Buffer.from([0])]);
    const end = prefixUpperBound(prefix);
    const params = { tenant, type, start, end, now: options.now, limit: options.limit + 1 };
    const { listRange, listFrom } = this.index.statements;
    const rows = (end ? listRange.all(params) : listFrom.all(params)) as Array<{ key: Buffer }>;
    const truncated = rows.length > options.limit;
    return { keys: rows.slice(0, options.limit).map((row) => row.key.toString('utf8')), truncated };
  }

  async sweepExpired(now: number): Promise<number> {
    const { expired, deleteExpired } = this.index.statements;
    await this.uploads.sweep(now);
    let total = 0;
    for (;;) {
      const ids = expired.all(now, SWEEP_BATCH) as Array<{ id: number }>;
      if (ids.length === 0) return total;
      // A write may have replaced a row (same id, new value) since the SELECT: the DELETE checks
      // the expiry again and says what it removed, so a fresh value is neither deleted nor uncounted.
      const removed = await this.commits.enqueue(() => {
        const rows = [];
        for (const { id } of ids) {
          const row = deleteExpired.get(id, now) as { tenant: string; size: number; blob_id: string | null } | undefined;
          if (!row) continue;
          this.ledger.charge(row.tenant, -row.size, -1);
          rows.push(row);
        }
        return rows;
      });
      for (const row of removed) if (row.blob_id) this.removeBlobLater(row.blob_id);
      total += removed.length;
      if (ids.length < SWEEP_BATCH) return total;
    }
  }

  async usage(tenant: string): Promise<TenantUsage> {
    return this.ledger.read(tenant);
  }

  openUpload(grant: UploadGrantInfo): Promise<UploadSession> {
    return this.uploads.open(grant);
  }

  uploadStatus(uploadId: string): Promise<UploadSession> {
    return this.uploads.status(uploadId);
  }

  async appendUpload(...args: Parameters<FsUploads['append']>): Promise<UploadSession> {
    await this.disk.assertRoomFor(args[3].length);
    return this.uploads.append(...args);
  }

  completeUpload(uploadId: string, options: CompleteUploadOptions): Promise<ObjectInfo> {
    return this.uploads.complete(uploadId, options);
  }

  putUpload(uploadId: string, ref: ObjectRef, body: Readable, options: WriteOptions): Promise<ObjectInfo> {
    return this.uploads.putWhole(uploadId, (preempted) =>
      this.write(ref, body, {
        ...options,
        signal: options.signal ? AbortSignal.any([options.signal, preempted]) : preempted,
        completesUpload: uploadId,
      }),
    );
  }

  abortUpload(uploadId: string, ref: ObjectRef): Promise<boolean> {
    return this.uploads.abort(uploadId, ref);
  }

  async checkReady(): Promise<void> {
    this.index.statements.ping.get();
    await this.disk.assertReady();
  }

  async close(): Promise<void> {
    this.commits.flush();
    this.index.db.close();
    this.lock.release();
  }

  private findRow(ref: ObjectRef, now: number): ObjectRow | undefined {
    return this.index.statements.findVisible.get({ ...keyParams(ref), now }) as ObjectRow | undefined;
  }

  /** Streams the rest of the body into a temp file, makes it durable and moves it into place. */
  private async writeBlob(
    head: Buffer[],
    rest: AsyncGenerator<Buffer>,
    signal: AbortSignal | undefined,
    declaredBytes: number | undefined,
  ): Promise<string> {
    const id = this.blobs.newId();
    const disk = this.disk;
    try {
      const source = async function* () {
        yield* head;
        // A body of unknown length was admitted with nothing reserved: it is measured against
        // the reserve as it grows, so one such body cannot eat the room every other write needs.
        let unchecked = 0;
        for (let next = await rest.next(); !next.done; next = await rest.next()) {
          if (declaredBytes === undefined) {
            unchecked += next.value.length;
            if (unchecked >= RESERVE_CHECK_BYTES) {
              await disk.assertRoomFor(unchecked);
              unchecked = 0;
            }
          }
          yield next.value;
        }
      };
      await pipeline(source, this.blobs.createTempStream(id), { signal });
      await this.blobs.moveIntoPlace(id);
      return id;
    } catch (error) {
      await rest.return(undefined);
      await this.blobs.removeTemp(id);
      await this.blobs.remove(id);
      throw error;
    }
  }

  /**
   * Commits the index row after checking the precondition and the tenant's quota in the same
   * transaction, so two conditional writers cannot both win and two writers cannot both take the
   * last bytes of a quota. The blob it replaced is removed after the commit.
   */
  private async commitRow(
    ref: ObjectRef,
    row: Omit<ObjectRow, 'last_modified'>,
    options: { condition: WriteCondition | undefined; now: number; alsoRun?: (info: ObjectInfo) => void },
  ): Promise<ObjectInfo> {
    const { findAny, upsert } = this.index.statements;
    const params = keyParams(ref);
    const committed = await this.commits.enqueue(() => {
      const previous = findAny.get(params) as AnyObjectRow | undefined;
      assertCondition(visibleEtag(previous, options.now), options.condition);
      this.ledger.charge(ref.tenant, row.size - (previous?.size ?? 0), previous ? 0 : 1);
      const full: ObjectRow = { ...row, last_modified: this.clock() };
      upsert.run({ ...params, ...full });
      options.alsoRun?.(toInfo(full));
      return { full, replacedBlob: previous?.blob_id ?? null };
    });
    if (committed.replacedBlob) this.removeBlobLater(committed.replacedBlob);
    return toInfo(committed.full);
  }

  private removeBlobLater(id: string): void {
    this.blobs.remove(id).catch((error) => this.warn(`could not remove replaced blob ${id}; start-up cleanup will`, error));
  }
}

function assertChecksum(actual: string | undefined, expected: string | undefined): void {
  if (expected !== undefined && actual !== expected.toLowerCase()) {
    throw fail('ChecksumMismatch', `The body's sha256 is ${actual}, not ${expected} as sent; nothing was stored`);
  }
}

function keyParams(ref: ObjectRef) {
  return { tenant: ref.tenant, type: ref.type, key: Buffer.from(ref.key, 'utf8') };
}

function toInfo(row: Pick<ObjectRow, 'size' | 'sha256' | 'content_type' | 'last_modified' | 'expires_at'>): ObjectInfo {
  return {
    size: row.size,
    sha256: row.sha256,
    etag: `"${row.sha256}"`,
    contentType: row.content_type,
    lastModified: row.last_modified,
    expiresAt: row.expires_at ?? undefined,
  };
}
