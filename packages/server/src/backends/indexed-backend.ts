import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { EMPTY_SHA256 } from 'stowage-client/protocol';
import { fail, isDiskFullError } from '../errors.js';
import type { Failpoint } from '../failpoints.js';
import type {
  AppendOptions,
  Backend,
  CompleteUploadOptions,
  ComposeOptions,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectRef,
  ReadPlan,
  ReadResult,
  TenantUsage,
  UploadGrantInfo,
  UploadSession,
  WriteCondition,
  WriteOptions,
} from './backend.js';
import { BlobNotFoundError, type BlobStore } from './blob-store.js';
import { compositeSha256, isManifestId, type ManifestPart, newManifestId } from './composite.js';
import { readComposite } from './composite-read.js';
import { type FolderListingOptions, type FolderPage, listFolderPage } from './folder-listing.js';
import { GarbageCollector } from './garbage-collector.js';
import type { KeptNewer } from './kept-newer.js';
import { prefixRange } from './key-range.js';
import { type BodyMeter, meterBody } from './metered-body.js';
import { newVersionId } from './object-columns.js';
import {
  type ComposedPart,
  type IndexRow,
  infoOf,
  type ListVersionsOptions,
  type ObjectIndex,
  type PutRowOptions,
  type RestoreVersionOptions,
  type VersionRow,
} from './object-index.js';
import {
  PrefixOperations,
  type PrefixTransferResult,
  type RestorePrefixOptions,
  type RestorePrefixResult,
  type TransferKeyOptions,
  type TransferPrefixOptions,
} from './prefix-operations.js';
import type { PurgeSchedule, PurgeScheduleSource } from './purge-schedule.js';
import { UploadSessions } from './upload-sessions.js';

/** Values up to this size live in the index row: one index commit instead of a blob and its fsyncs. */
export const INLINE_MAX_BYTES = 16 * 1024;

const SWEEP_BATCH = 1000;
/** Memory for the parts of composite values' manifests: about 200 bytes a part, and its inline bytes. */
const MANIFEST_CACHE_BYTES = 16 * 1024 * 1024;
const PART_ENTRY_BYTES = 200;

export interface IndexedBackendOptions {
  /** Milliseconds since the epoch; injectable for tests. */
  readonly clock?: (() => number) | undefined;
  /** Crash points for durability tests (see failpoints.ts). */
  readonly failpoint?: Failpoint | undefined;
  /** Problems that must not fail a request (e.g. a replaced blob that could not be removed yet). */
  readonly onWarning?: ((message: string, error: unknown) => void) | undefined;
  /** Orphan blobs younger than this are left alone (their write may not have committed yet). */
  readonly orphanGraceMs: number;
  /** How often the sweeper also looks for orphan blobs. */
  readonly orphanSweepIntervalMs: number;
  /** How long a replaced blob outlives its row; undefined for the blob store's own default. */
  readonly replacedBlobGraceMs?: number | undefined;
  /** A resumable upload's long chunk is made durable every this many bytes; 64 MiB if unset. */
  readonly uploadCheckpointBytes?: number | undefined;
}

/**
 * The storage engine: any ObjectIndex paired with any BlobStore. A write streams the body to a
 * new blob (hashing and counting it), then commits the index row in one transaction that checks
 * the condition and the quota and queues the replaced blob for deletion, so a crash at any point
 * leaves the old or the new value and at worst an orphan blob that the garbage collector removes.
 */
export class IndexedBackend implements Backend {
  private readonly clock: () => number;
  private readonly failpoint: Failpoint;
  private readonly warn: (message: string, error: unknown) => void;
  private readonly garbage: GarbageCollector;
  private readonly uploads: UploadSessions;
  private readonly prefixes: PrefixOperations;
  private readonly replacedBlobGraceMs: number;
  /** Parts of the manifests read lately, by manifest id, up to MANIFEST_CACHE_BYTES in all. */
  private readonly manifests = new LRUCache<string, ManifestPart[]>({
    maxSize: MANIFEST_CACHE_BYTES,
    sizeCalculation: (parts) => parts.reduce((bytes, part) => bytes + PART_ENTRY_BYTES + (part.inline?.length ?? 0), 1),
  });

  constructor(
    readonly index: ObjectIndex,
    readonly blobs: BlobStore,
    private readonly options: IndexedBackendOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.failpoint = options.failpoint ?? (() => {});
    this.warn = options.onWarning ?? (() => {});
    this.replacedBlobGraceMs = options.replacedBlobGraceMs ?? blobs.replacedBlobGraceMs;
    this.garbage = new GarbageCollector(index, blobs, this.clock, this.warn);
    this.uploads = new UploadSessions(index, blobs, {
      failpoint: this.failpoint,
      commit: (ref, row, commit) => this.commitRow(ref, row, commit),
      write: (ref, body, options) => this.write(ref, body, options),
      checkpointBytes: options.uploadCheckpointBytes,
    });
    this.prefixes = new PrefixOperations(index, {
      clock: this.clock,
      failpoint: this.failpoint,
      collectAfter: (now) => now + this.replacedBlobGraceMs,
      afterCommit: () => this.garbage.collectSoon(this.replacedBlobGraceMs),
    });
  }

  async head(ref: ObjectRef, now: number): Promise<ObjectInfo | undefined> {
    const row = await this.index.find({ ref, now });
    return row && infoOf(row);
  }

  read(ref: ObjectRef, now: number, plan: (info: ObjectInfo) => ReadPlan = () => ({ kind: 'all' })): Promise<ReadResult | undefined> {
    return this.readRow(ref, () => this.index.find({ ref, now }), plan);
  }

  async removeVersion(ref: ObjectRef, versionId: string): Promise<{ deleteMarker: boolean } | undefined> {
    const removed = await this.index.removeVersion({ ref, versionId, collectAfter: this.clock() + this.replacedBlobGraceMs });
    this.garbage.collectSoon(this.replacedBlobGraceMs);
    return removed;
  }

  async deleteVersion(ref: ObjectRef, versionId: string): Promise<{ deleteMarker: boolean; promoted: string | undefined } | undefined> {
    const now = this.clock();
    const removed = await this.index.deleteVersion({ ref, versionId, now, collectAfter: now + this.replacedBlobGraceMs });
    this.garbage.collectSoon(this.replacedBlobGraceMs);
    return removed;
  }

  expireLoneMarker(ref: ObjectRef, at: number): Promise<boolean> {
    return this.index.expireLoneMarker({ ref, at });
  }

  readVersion(
    ref: ObjectRef,
    versionId: string,
    now: number,
    plan: (info: ObjectInfo) => ReadPlan = () => ({ kind: 'all' }),
  ): Promise<ReadResult | undefined> {
    return this.readRow(ref, () => this.index.findVersion({ ref, versionId, now }), plan);
  }

  private async readRow(
    ref: ObjectRef,
    lookup: () => Promise<IndexRow | undefined>,
    plan: (info: ObjectInfo) => ReadPlan,
  ): Promise<ReadResult | undefined> {
    // A concurrent overwrite (or purge) may remove the blob between the lookup and the read; the
    // index then already says so, so look again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = await lookup();
      if (!row) return undefined;
      const info = infoOf(row);
      const wanted = plan(info);
      if (wanted.kind === 'none') return { info, body: undefined, plan: wanted };
      const [start, end] = wanted.kind === 'range' ? [wanted.start, wanted.end] : [0, row.size - 1];
      if (row.inline) return { info, body: row.inline.subarray(start, end + 1), plan: wanted };
      if (!row.blobId || row.size === 0) return { info, body: Buffer.alloc(0), plan: wanted };
      try {
        // A composite value is read part by part, through the server (no one blob to hand off).
        if (isManifestId(row.blobId))
          return { info, body: await readComposite(this.blobs, await this.manifestParts(row.blobId), start, end), plan: wanted };
        if (wanted.handoff && this.blobs.locate) {
          const location = await this.blobs.locate({ ...wanted.handoff, blobId: row.blobId, size: row.size });
          return { info, body: undefined, plan: wanted, location };
        }
        return { info, body: await this.blobs.read({ blobId: row.blobId, start, end, size: row.size }), plan: wanted };
      } catch (error) {
        if (!(error instanceof BlobNotFoundError)) throw error;
      }
    }
    throw new Error(`blob of ${ref.type}/${ref.key} kept disappearing`);
  }

  async handoffOrigin(): Promise<string | undefined> {
    return this.blobs.urlOrigin?.();
  }

  /**
   * A manifest's parts, remembered: a manifest never changes, and a client that downloads a
   * composite value in ranges (the AWS CLI: 8 MiB each) would otherwise read all its parts' rows
   * for every range.
   */
  private async manifestParts(manifestId: string): Promise<ManifestPart[]> {
    const known = this.manifests.get(manifestId);
    if (known) return known;
    const parts = await this.index.manifestParts(manifestId);
    if (parts.length > 0) this.manifests.set(manifestId, parts);
    return parts;
  }

  async write(ref: ObjectRef, body: Readable, options: WriteOptions): Promise<ObjectInfo> {
    await this.blobs.admit(options.expectedBytes);
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
    const commit = {
      condition: options.condition,
      now: options.now,
      completesUpload: options.completesUpload,
      purgeAfter: options.purgeAfter,
      releases: options.releases && { tenant: ref.tenant, type: options.releases.type, ...prefixRange(options.releases.prefix) },
    };
    const rowOf = () => {
      const attributes = typeof options.attributes === 'function' ? options.attributes() : (options.attributes ?? null);
      return { contentType: options.contentType, expiresAt: options.expiresAt ?? null, attributes };
    };
    if (ended) {
      const data = Buffer.concat(head);
      assertChecksum(meter.sha256, options.expectedSha256);
      const info = await this.commitRow(
        ref,
        { ...rowOf(), size: data.length, sha256: meter.sha256 ?? '', blobId: null, inline: data },
        commit,
      );
      this.failpoint('write.after-commit');
      return info;
    }
    const blobId = this.blobs.newBlobId();
    try {
      await this.blobs.put({ blobId, body: concat(head, chunks), size: options.expectedBytes, signal: options.signal });
    } finally {
      await chunks.return(undefined);
    }
    this.failpoint('write.after-blob');
    let info: ObjectInfo;
    try {
      assertChecksum(meter.sha256, options.expectedSha256);
      info = await this.commitRow(ref, { ...rowOf(), size: meter.bytes, sha256: meter.sha256 ?? '', blobId, inline: null }, commit);
    } catch (error) {
      // No row names the blob, so no reader can know it: it goes now (or to the orphan sweep).
      await this.blobs.delete(blobId).catch((cause) => this.warn(`could not remove unstored blob ${blobId}`, cause));
      throw error;
    }
    this.failpoint('write.after-commit');
    return info;
  }

  async compose(ref: ObjectRef, parts: readonly ComposedPart[], options: ComposeOptions): Promise<ObjectInfo> {
    const size = parts.reduce((sum, part) => sum + part.size, 0);
    if (size > options.maxBytes) throw fail('EntityTooLarge', `The object would exceed the limit of ${options.maxBytes} bytes`);
    const attributes = typeof options.attributes === 'function' ? options.attributes() : (options.attributes ?? null);
    const row = {
      contentType: options.contentType,
      expiresAt: options.expiresAt ?? null,
      attributes,
      size,
      // Parts that hold nothing make an empty value, as a write of no bytes does: no manifest.
      sha256: size === 0 ? EMPTY_SHA256 : compositeSha256(parts.map((part) => part.sha256)),
      blobId: size === 0 ? null : newManifestId(),
      inline: size === 0 ? Buffer.alloc(0) : null,
    };
    const releases = options.releases && { tenant: ref.tenant, type: options.releases.type, ...prefixRange(options.releases.prefix) };
    const info = await this.commitRow(ref, row, {
      condition: options.condition,
      now: options.now,
      purgeAfter: options.purgeAfter,
      releases,
      composes: size === 0 ? undefined : parts,
    });
    this.failpoint('write.after-commit');
    return info;
  }

  async delete(ref: ObjectRef, now: number, condition?: WriteCondition, purgeAfter?: number, markerVersionId?: string): Promise<boolean> {
    const remove = () =>
      this.index.remove({ ref, now, condition, collectAfter: now + this.replacedBlobGraceMs, purgeAfter, markerVersionId });
    let existed: boolean;
    try {
      existed = await remove();
    } catch (error) {
      // Deletes are how space comes back: on a full disk, free the reserve and commit again.
      if (!isDiskFullError(error) || !(await this.blobs.relieveSpace())) throw error;
      this.warn('the disk is full: released the ballast file so deletes can commit', error);
      existed = await remove();
    }
    this.failpoint('delete.after-commit');
    this.garbage.collectSoon(this.replacedBlobGraceMs);
    return existed;
  }

  list(tenant: string, type: string, options: ListOptions): Promise<ListPage> {
    return this.index.list({ tenant, type, ...options });
  }

  usage(tenant: string): Promise<TenantUsage> {
    return this.index.usage(tenant);
  }

  listFolder(options: FolderListingOptions): Promise<FolderPage> {
    return listFolderPage((scan) => this.index.scan(scan), options);
  }

  deletePrefix(
    tenant: string,
    type: string,
    prefix: string,
    now: number,
    purge?: PurgeSchedule,
  ): Promise<{ objects: number; bytes: number }> {
    return this.prefixes.deletePrefix(tenant, type, prefix, now, purge);
  }

  deleteMany(
    tenant: string,
    type: string,
    keys: readonly string[],
    now: number,
    purge?: PurgeSchedule,
  ): Promise<Array<number | undefined>> {
    return this.prefixes.deleteMany(tenant, type, keys, now, purge);
  }

  listVersions(options: ListVersionsOptions): Promise<VersionRow[]> {
    return this.index.listVersions(options);
  }

  retained(tenant: string, type?: string): Promise<{ bytes: number; versions: number }> {
    return this.index.retained({ tenant, type });
  }

  async restoreVersion(options: RestoreVersionOptions): Promise<ObjectInfo> {
    const row = await this.index.restoreVersion({ ...options, collectAfter: options.now + this.replacedBlobGraceMs });
    this.garbage.collectSoon(this.replacedBlobGraceMs);
    return infoOf(row);
  }

  restorePrefix(options: RestorePrefixOptions): Promise<RestorePrefixResult> {
    return this.prefixes.restorePrefix(options);
  }

  countPrefix(tenant: string, type: string, prefix: string, now: number): Promise<{ objects: number; bytes: number }> {
    return this.prefixes.countPrefix(tenant, type, prefix, now);
  }

  transferKey(options: TransferKeyOptions): Promise<ObjectInfo> {
    return this.prefixes.transferKey(options);
  }

  transferPrefix(options: TransferPrefixOptions): Promise<PrefixTransferResult> {
    return this.prefixes.transferPrefix(options);
  }

  /** Expired sessions and objects, then due garbage; now and then, orphan blobs too. */
  async sweepExpired(now: number, scheduleFor?: PurgeScheduleSource): Promise<number> {
    await this.uploads.sweep(now);
    let total = 0;
    for (;;) {
      const removed = await this.index.sweepExpired({ now, limit: SWEEP_BATCH, collectAfter: now + this.replacedBlobGraceMs });
      total += removed;
      if (removed < SWEEP_BATCH) break;
    }
    await this.purgeVersions(now, scheduleFor);
    await this.garbage.collect();
    // One server at a time: the index hands out the orphan sweep's turns (on the wall clock).
    const turn = { name: 'orphan-sweep', now: Date.now(), intervalMs: this.options.orphanSweepIntervalMs };
    if (await this.index.claimChore(turn)) await this.sweepOrphans(this.options.orphanGraceMs);
    return total;
  }

  /**
   * Versions past their retention window go for good, but those NewerNoncurrentVersions keeps;
   * their blobs are collected when nothing names them. Each tenant's type's schedule is asked
   * once, when a round first meets a due version of it.
   */
  private async purgeVersions(now: number, scheduleFor: PurgeScheduleSource | undefined): Promise<void> {
    // null: a type whose rules could not be read; its versions wait for the next sweep.
    const schedules = new Map<string, PurgeSchedule | null>();
    const unresolved = new Map<string, [string, string]>();
    const keptNewer: KeptNewer | undefined = scheduleFor && {
      scheduleOf: (tenant, type) => {
        const name = JSON.stringify([tenant, type]);
        const schedule = schedules.get(name);
        if (schedule === undefined) unresolved.set(name, [tenant, type]);
        return schedule ?? undefined;
      },
    };
    for (;;) {
      const settled = await this.index.purgeVersions({ now, limit: SWEEP_BATCH, collectAfter: now + this.replacedBlobGraceMs, keptNewer });
      if (unresolved.size === 0 && settled < SWEEP_BATCH) break;
      for (const [name, [tenant, type]] of unresolved) {
        const schedule = await (scheduleFor as PurgeScheduleSource)(tenant, type).catch((cause: unknown) => {
          this.warn(`could not read the retention rules of ${type} (of ${tenant}): its versions wait for the next sweep`, cause);
          return null;
        });
        schedules.set(name, schedule);
      }
      unresolved.clear();
    }
  }

  /**
   * Deletes the queued blobs that are due (replaced, deleted or swept ones). `everything` also
   * takes those not yet due or leased by a collector that died: only for a process that owns
   * the index alone, at start-up, when no read can be in flight.
   */
  collectGarbage(options: { everything?: boolean } = {}): Promise<number> {
    return this.garbage.collect(options.everything ? Number.MAX_SAFE_INTEGER : undefined);
  }

  /**
   * Removes blobs and staged upload bytes that nothing in the index knows of and that are older
   * than `graceMs`. Blob ages are on the wall clock (the store's timestamps), not the test clock.
   */
  async sweepOrphans(graceMs: number): Promise<number> {
    return this.blobs.sweepOrphans({
      knownBlobs: (ids) => this.index.knownBlobs(ids),
      isUploadOpen: (id) => this.index.isUploadOpen(id),
      now: Date.now(),
      graceMs,
    });
  }

  openUpload(grant: UploadGrantInfo): Promise<UploadSession> {
    return this.uploads.open(grant);
  }

  uploadStatus(uploadId: string): Promise<UploadSession> {
    return this.uploads.status(uploadId);
  }

  appendUpload(uploadId: string, offset: number, body: Readable, options: AppendOptions): Promise<UploadSession> {
    return this.uploads.append(uploadId, offset, body, options);
  }

  completeUpload(uploadId: string, options: CompleteUploadOptions): Promise<ObjectInfo> {
    return this.uploads.complete(uploadId, options);
  }

  putUpload(uploadId: string, ref: ObjectRef, body: Readable, options: WriteOptions): Promise<ObjectInfo> {
    return this.uploads.putWhole(uploadId, ref, body, options);
  }

  abortUpload(uploadId: string, ref: ObjectRef): Promise<boolean> {
    return this.uploads.abort(uploadId, ref);
  }

  async checkReady(): Promise<void> {
    await this.index.checkReady();
    await this.blobs.checkReady();
  }

  async close(): Promise<void> {
    await this.garbage.stop();
    await this.index.close();
    await this.blobs.close();
  }

  /** Commits the row (condition, quota and the replaced blob's queueing in one transaction). */
  private async commitRow(
    ref: ObjectRef,
    row: Omit<IndexRow, 'lastModified'>,
    options: Pick<PutRowOptions, 'condition' | 'now' | 'completesUpload' | 'releases' | 'purgeAfter' | 'composes'>,
  ): Promise<ObjectInfo> {
    const full: IndexRow = { ...row, lastModified: this.clock() };
    // The version id the row gets, so that the write's answer can name it.
    const versionId = newVersionId(options.now);
    await this.index.put({ ref, row: { ...full, versionId }, ...options, collectAfter: options.now + this.replacedBlobGraceMs });
    this.garbage.collectSoon(this.replacedBlobGraceMs);
    // The session's record (made in the commit) names it too: a completion answered again says the same.
    return { ...infoOf(full), versionId };
  }
}

async function* concat(head: Buffer[], rest: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

function assertChecksum(actual: string | undefined, expected: string | undefined): void {
  if (expected !== undefined && actual !== expected.toLowerCase()) {
    throw fail('ChecksumMismatch', `The body's sha256 is ${actual}, not ${expected} as sent; nothing was stored`);
  }
}
