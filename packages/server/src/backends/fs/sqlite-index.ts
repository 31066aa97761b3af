import type { Statement } from 'better-sqlite3';
import type { ApiKeyStore } from '../../auth/api-keys.js';
import type { Durability } from '../../config.js';
import { fail } from '../../errors.js';
import type { AttributeLayout, ListPage, ObjectInfo, ObjectRef, TenantUsage, UploadGrantInfo } from '../backend.js';
import type { BucketSettingsStore } from '../bucket-settings.js';
import type { UsageChange } from '../bucket-usage.js';
import { type BucketStore, isObjectType } from '../buckets.js';
import type { ManifestPart } from '../composite.js';
import { assertCondition, visibleEtag } from '../conditions.js';
import { KEY_SPACE_END, keyAfter, listStart, prefixUpperBound } from '../key-range.js';
import {
  type AttributeFields,
  attributeFields,
  columnsFromRow,
  NULL_VERSION_ID,
  newVersionId,
  parseAttributes,
  rowFromColumns,
} from '../object-columns.js';
import {
  type AdvanceUploadOptions,
  type ClaimUploadOptions,
  type IndexRow,
  infoOf,
  type KeyRange,
  type ListRowsOptions,
  type ListVersionsOptions,
  type ObjectIndex,
  type PurgeVersionsOptions,
  type PutRowOptions,
  type RangeStep,
  RELEASE_BATCH_ROWS,
  type RemoveManyOptions,
  type RemoveRangeOptions,
  type RemoveRowOptions,
  type RestoreVersionOptions,
  type ScannedKey,
  type ScanOptions,
  type TransferOptions,
  type TransferRangeOptions,
  type UploadClaim,
  type UploadRecord,
  type VersionRow,
} from '../object-index.js';
import { destinationKey, transferredRow } from '../transfer-plan.js';
import { CommitQueue } from './commit-queue.js';
import { GC_HELD } from './gc-holds.js';
import { type AnyObjectRow, type IndexDb, openIndexDb, type VisibleRowTuple } from './index-db.js';
import { IndexUpkeep } from './index-upkeep.js';
import { type FullObjectRow, prepareRangeStatements, type RangeStatements, type RemovedTuple } from './range-statements.js';
import { RowCache } from './row-cache.js';
import { SqliteApiKeyStore } from './sqlite-api-keys.js';
import { SqliteBucketSettings } from './sqlite-bucket-settings.js';
import { SqliteBuckets } from './sqlite-buckets.js';
import { SqliteManifests } from './sqlite-manifests.js';
import { SqliteVersions } from './sqlite-versions.js';
import { type QuotaOverride, TenantLedger } from './tenant-usage.js';

interface ExpiredRow {
  tenant: string;
  type: string;
  key: Buffer;
  size: number;
  blob_id: string | null;
}

interface UploadRow {
  upload_id: string;
  tenant: string;
  type: string;
  key: Buffer;
  content_type: string;
  expires_at: number;
  received: number;
  total: number | null;
  completed_json: string | null;
  cancelled: number;
  hash_state: Buffer | null;
  staging: string | null;
  attempt: number;
}

export interface SqliteIndexOptions {
  readonly file: string;
  readonly durability: Durability;
  /** Quota of tenants the `tenants` table does not name; null for unlimited. */
  readonly defaultQuotaBytes: number | null;
  /** Memory for recently read rows (RowCache); 0 or absent for none, as admin commands open it. */
  readonly rowCacheBytes?: number | undefined;
  /** Which stored attribute fields describe the bytes (the domain's). */
  readonly attributeLayout: AttributeLayout;
  /**
   * Checkpoints and version filing on a thread of their own (index-upkeep.ts), for a serving
   * process; absent for commands that open the index for a moment. Its failures are warned of.
   */
  readonly upkeepThread?: { readonly onWarning: (message: string, error: unknown) => void } | undefined;
}

/**
 * The embedded index: one SQLite database (WAL) in the data directory. Writes go through a
 * group-commit queue, so concurrent requests share one fsync; each runs in its own savepoint.
 * One process owns the database at a time (the data directory lock), so a transaction here is
 * already linearizable.
 */
export class SqliteIndex implements ObjectIndex {
  readonly apiKeys: ApiKeyStore;
  readonly bucketSettings: BucketSettingsStore;
  readonly buckets: BucketStore;
  private readonly commits: CommitQueue;
  private readonly ledger: TenantLedger;
  private readonly sql: ReturnType<typeof prepareUploadStatements>;
  private readonly ranges: RangeStatements;
  private readonly cache: RowCache;
  private readonly versions: SqliteVersions;
  private readonly manifests: SqliteManifests;
  private readonly upkeep: IndexUpkeep | undefined;

  private constructor(
    readonly db: IndexDb,
    defaultQuotaBytes: number | null,
    rowCacheBytes: number,
    private readonly attributes: AttributeFields,
    upkeep?: IndexUpkeep,
  ) {
    this.cache = new RowCache(rowCacheBytes);
    this.commits = new CommitQueue(db.db, upkeep);
    this.upkeep = upkeep;
    this.ledger = new TenantLedger(db, defaultQuotaBytes);
    this.apiKeys = new SqliteApiKeyStore(db);
    this.bucketSettings = new SqliteBucketSettings(db);
    this.versions = new SqliteVersions(db, this.commits, attributes, upkeep && (() => upkeep.file()));
    this.buckets = new SqliteBuckets(db, this.commits, this.ledger, this.cache, this.versions);
    this.sql = prepareUploadStatements(db);
    this.ranges = prepareRangeStatements(db);
    this.manifests = new SqliteManifests(db, (ref) => this.ranges.findFull.get(keyParams(ref)) as FullObjectRow | undefined);
  }

  static async open(options: SqliteIndexOptions): Promise<SqliteIndex> {
    const db = openIndexDb(options.file, options.durability);
    const upkeep = options.upkeepThread && new IndexUpkeep(db.db, options.file, options.durability, options.upkeepThread.onWarning);
    return new SqliteIndex(db, options.defaultQuotaBytes, options.rowCacheBytes ?? 0, attributeFields(options.attributeLayout), upkeep);
  }

  async find({ ref, now }: { ref: ObjectRef; now: number }): Promise<IndexRow | undefined> {
    const cached = this.cache.get(ref, now);
    if (cached) return cached;
    const found = this.db.statements.findVisible.get(ref.tenant, ref.type, Buffer.from(ref.key, 'utf8'), now);
    if (!found) return undefined;
    const row = rowFromVisibleTuple(found, this.attributes);
    this.cache.set(ref, row);
    return row;
  }

  async put(options: PutRowOptions): Promise<void> {
    await this.commits.enqueue(() => this.putRow(options));
  }

  /** put's work inside a commit. */
  private putRow(options: PutRowOptions): void {
    const { findAny, upsert } = this.db.statements;
    const { ref } = options;
    const row: IndexRow = { ...options.row, versionId: options.row.versionId ?? newVersionId(options.now), currentSince: options.now };
    const params = keyParams(ref);
    this.cache.drop(ref);
    const previous = this.unlessKept(findAny.get(params) as AnyObjectRow | undefined);
    const previousEtag = visibleEtag(previous && { sha256: previous.sha256, expiresAt: previous.expires_at }, options.now);
    assertCondition(previousEtag, options.condition);
    // A composite value's parts are read before `releases` removes their rows.
    if (options.composes) this.manifests.write(row.blobId as string, options.composes, options.now);
    const changes: UsageChange[] = [];
    if (options.releases) {
      const released = { type: options.releases.type, bytes: 0, objects: 0 };
      for (let start: Buffer | undefined = options.releases.start; start; ) {
        const batch = this.deleteRangeRows({
          ...options.releases,
          start,
          limit: RELEASE_BATCH_ROWS,
          now: options.now,
          collectAfter: options.collectAfter,
        });
        released.bytes -= batch.removed.bytes;
        released.objects -= batch.removed.objects;
        start = batch.step.next;
      }
      changes.push(released);
    }
    changes.push({ type: ref.type, bytes: row.size - (previous?.size ?? 0), objects: previous ? 0 : 1, stores: true });
    this.ledger.chargeAll(ref.tenant, changes);
    // Retention: the replaced value stays, as a noncurrent version (its blob stays named).
    const retained = previous !== undefined && previousEtag !== undefined && options.purgeAfter !== undefined;
    if (retained) this.versions.archive(previous.id, options.now, options.purgeAfter as number);
    upsert.run({ ...params, ...columnsFromRow(row) });
    if (options.completesUpload) this.markCompleted(options.completesUpload, infoOf(row));
    if (!retained && previous?.blob_id && previous.blob_id !== row.blobId)
      this.sql.queueGarbage.run(previous.blob_id, options.collectAfter);
  }

  async remove(options: RemoveRowOptions): Promise<boolean> {
    return this.commits.enqueue(() => {
      const row = this.db.statements.findAny.get(keyParams(options.ref)) as AnyObjectRow | undefined;
      assertCondition(visibleEtag(row && { sha256: row.sha256, expiresAt: row.expires_at }, options.now), options.condition);
      // An expired row not yet swept goes too, but was not there for the caller.
      return this.removeRow(options.ref, options.now, options.collectAfter, options.purgeAfter, options.markerVersionId)?.visible ?? false;
    });
  }

  async list(options: ListRowsOptions): Promise<ListPage> {
    const prefix = Buffer.from(options.prefix, 'utf8');
    const start = listStart(prefix, options.after);
    const end = prefixUpperBound(prefix);
    const params = { tenant: options.tenant, type: options.type, start, end, now: options.now, limit: options.limit + 1 };
    const { listRange, listFrom } = this.db.statements;
    const rows = (end ? listRange.all(params) : listFrom.all(params)) as Array<{ key: Buffer }>;
    const truncated = rows.length > options.limit;
    return { keys: rows.slice(0, options.limit).map((row) => row.key.toString('utf8')), truncated };
  }

  async usage(tenant: string): Promise<TenantUsage> {
    return this.ledger.read(tenant);
  }

  async scan(options: ScanOptions): Promise<ScannedKey[]> {
    const params = rangeParams(options, { now: options.now, limit: options.limit });
    if (!options.details)
      return (this.ranges.scanKeys.all(params) as Buffer[]).map((key) => ({ key: key.toString('utf8'), row: undefined }));
    return (this.ranges.scanDetails.all(params) as FullObjectRow[]).map((row) => ({
      key: row.key.toString('utf8'),
      row: rowFromColumns(row, this.attributes),
    }));
  }

  async countRange(options: KeyRange & { now: number }): Promise<{ objects: number; bytes: number }> {
    return this.ranges.countRange.get(rangeParams(options, { now: options.now })) as { objects: number; bytes: number };
  }

  async removeRange(options: RemoveRangeOptions): Promise<RangeStep> {
    return this.commits.enqueue(() => {
      const { step, removed } = this.deleteRangeRows(options);
      this.ledger.charge(options.tenant, options.type, -removed.bytes, -removed.objects);
      return step;
    });
  }

  /**
   * removeRange's work inside the caller's transaction, but for the ledger: what the removed rows
   * held (expired ones too) is for the caller to charge. With retention, visible rows are deleted
   * in place (kept as versions); rows already deleted so are versions, and stay.
   */
  private deleteRangeRows(options: RemoveRangeOptions): { step: RangeStep; removed: { bytes: number; objects: number } } {
    const params = rangeParams(options, { limit: options.limit });
    // The batch's last key, read first: the batch ends there, whatever its rows become.
    const last = this.ranges.batchEnd.get({ ...params, offset: options.limit - 1 }) as Buffer | undefined;
    const retain = options.purgeAfter;
    const kept =
      retain === undefined ? [] : this.versions.softDeleteRange(options, options.limit, options.now, retain, newVersionId(options.now));
    const dropped = this.ranges.removeRange.all(params) as RemovedTuple[];
    let objects = 0;
    let bytes = 0;
    let removedBytes = 0;
    const uncached = (key: Buffer) => this.cache.drop({ tenant: options.tenant, type: options.type, key: key.toString('utf8') });
    for (const [key, size] of kept) {
      uncached(key);
      objects++;
      bytes += size;
      removedBytes += size;
    }
    for (const [key, size, blobId, expiresAt] of dropped) {
      uncached(key);
      if (blobId) this.sql.queueGarbage.run(blobId, options.collectAfter);
      removedBytes += size;
      if (expiresAt !== null && expiresAt <= options.now) continue;
      objects++;
      bytes += size;
    }
    return {
      step: { objects, bytes, skipped: [], next: last === undefined ? undefined : keyAfter(last) },
      removed: { bytes: removedBytes, objects: kept.length + dropped.length },
    };
  }

  async removeMany(options: RemoveManyOptions): Promise<Array<number | undefined>> {
    return this.commits.enqueue(() =>
      options.keys.map((key) => {
        const removed = this.removeRow(
          { tenant: options.tenant, type: options.type, key },
          options.now,
          options.collectAfter,
          options.purgeAfter?.(key),
        );
        return removed?.visible ? removed.size : undefined;
      }),
    );
  }

  async transfer(options: TransferOptions): Promise<IndexRow> {
    return this.commits.enqueue(() => {
      const source =
        options.fromVersionId === undefined
          ? (this.ranges.findFull.get(keyParams(options.from)) as FullObjectRow | undefined)
          : this.versionSource(options.from, options.fromVersionId, options.now, options.move);
      const sourceEtag = visibleEtag(source && { sha256: source.sha256, expiresAt: source.expires_at }, options.now);
      if (!source || sourceEtag === undefined) throw fail('NoSuchKey', `No object at ${options.from.type}/${options.from.key}`);
      assertCondition(sourceEtag, options.condition);
      options.checkSource?.(infoOf(rowFromColumns(source, this.attributes)));
      const row = this.transferRow(source, options.from, options.to, options);
      if (!row) throw fail('DestinationExists', `An object exists at ${options.to.type}/${options.to.key}`);
      return row;
    });
  }

  /** Inside a commit: version `versionId` of `from` as a copy's source (the current row, or a kept version). */
  private versionSource(from: ObjectRef, versionId: string, now: number, move: boolean): FullObjectRow {
    if (move) throw new Error('a move takes the current row, not a version');
    this.settleKey(from);
    const current = this.ranges.findFull.get(keyParams(from)) as FullObjectRow | undefined;
    if (current && (current.version_id ?? NULL_VERSION_ID) === versionId && (current.expires_at === null || current.expires_at > now))
      return current;
    const version = this.versions.find(from, versionId);
    if (!version || version.delete_marker) throw fail('NoSuchVersion', `No version ${versionId} of ${from.type}/${from.key}`);
    // A kept version is a value that exists; the copy keeps its expiry unless that already passed.
    const expiresAt = version.expires_at !== null && version.expires_at > now ? version.expires_at : null;
    return { ...version, expires_at: expiresAt, key: Buffer.from(from.key, 'utf8') };
  }

  async transferRange(options: TransferRangeOptions): Promise<RangeStep> {
    const fromPrefix = Buffer.from(options.fromPrefix, 'utf8');
    const toPrefix = Buffer.from(options.toPrefix, 'utf8');
    const { tenant, type } = options.range;
    return this.commits.enqueue(() => {
      const rows = this.ranges.rangeRows.all(rangeParams(options.range, { limit: options.limit })) as FullObjectRow[];
      const step = { objects: 0, bytes: 0, skipped: [] as string[] };
      for (const source of rows) {
        if (source.expires_at !== null && source.expires_at <= options.now) continue;
        const key = source.key.toString('utf8');
        const target = destinationKey(source.key, fromPrefix, toPrefix);
        const moved =
          target &&
          this.transferRow(
            source,
            { tenant, type, key },
            { tenant, type: options.toType, key: target.toString('utf8') },
            { ...options, expiresAtIfNone: options.expiresAtIfNone(target.toString('utf8')) },
          );
        if (!moved) {
          step.skipped.push(key);
          continue;
        }
        step.objects++;
        step.bytes += source.size;
      }
      const last = rows.at(-1);
      return { ...step, next: rows.length < options.limit || !last ? undefined : keyAfter(last.key) };
    });
  }

  async retained({ tenant, type }: { tenant: string; type?: string | undefined }): Promise<{ bytes: number; versions: number }> {
    return this.versions.retained(tenant, type);
  }

  async removeVersion({ ref, versionId, collectAfter }: { ref: ObjectRef; versionId: string; collectAfter: number }) {
    return this.commits.enqueue(() => {
      this.settleKey(ref);
      const removed = this.versions.remove(ref, versionId);
      if (!removed) return undefined;
      if (removed.blob_id) this.sql.queueGarbage.run(removed.blob_id, collectAfter);
      return { deleteMarker: Boolean(removed.delete_marker) };
    });
  }

  async deleteVersion({ ref, versionId, now, collectAfter }: { ref: ObjectRef; versionId: string; now: number; collectAfter: number }) {
    return this.commits.enqueue(() => {
      this.settleKey(ref);
      const current = this.ranges.findFull.get(keyParams(ref)) as FullObjectRow | undefined;
      const visible = current !== undefined && (current.expires_at === null || current.expires_at > now);
      if (current && visible && (current.version_id ?? NULL_VERSION_ID) === versionId) {
        this.dropCurrent(ref, current, collectAfter);
        return { deleteMarker: false, promoted: this.promoteNewest(ref) };
      }
      const newest = this.versions.newest(ref);
      // The key's newest delete marker: what the key is now (deleted).
      const latestMarker = !visible && newest !== undefined && Boolean(newest.delete_marker) && newest.version_id === versionId;
      const removed = this.versions.remove(ref, versionId);
      if (!removed) return undefined;
      if (removed.blob_id) this.sql.queueGarbage.run(removed.blob_id, collectAfter);
      let promoted: string | undefined;
      if (latestMarker) {
        // An expired row not yet swept makes room for the version that becomes current.
        if (current) this.dropCurrent(ref, current, collectAfter);
        promoted = this.promoteNewest(ref);
      }
      return { deleteMarker: Boolean(removed.delete_marker), promoted };
    });
  }

  /** Inside a commit: removes the current row of `ref` for good (no version kept), queueing its blob. */
  private dropCurrent(ref: ObjectRef, row: FullObjectRow, collectAfter: number): void {
    this.cache.drop(ref);
    this.db.statements.deleteById.run(row.id);
    this.ledger.charge(ref.tenant, ref.type, -row.size, -1);
    if (row.blob_id) this.sql.queueGarbage.run(row.blob_id, collectAfter);
  }

  /** Inside a commit, with no current row: the newest version of `ref`, if a value, becomes the current row; its version id. */
  private promoteNewest(ref: ObjectRef): string | undefined {
    const next = this.versions.newest(ref);
    if (!next || next.delete_marker) return undefined;
    this.versions.removeId(next.id);
    this.cache.drop(ref);
    const row = rowFromColumns(next, this.attributes);
    this.db.statements.upsert.run({ ...keyParams(ref), ...columnsFromRow(row) });
    // Not a write the quota judges: a value the key held comes back as it was.
    this.ledger.charge(ref.tenant, ref.type, next.size, 1);
    return next.version_id;
  }

  async findVersion({ ref, versionId, now }: { ref: ObjectRef; versionId: string; now: number }): Promise<IndexRow | undefined> {
    const found = this.versions.findValue(ref, versionId, now);
    return found && rowFromColumns(found, this.attributes);
  }

  async listVersions(options: ListVersionsOptions): Promise<VersionRow[]> {
    return this.versions.list(options);
  }

  async restoreVersion(options: RestoreVersionOptions): Promise<IndexRow> {
    const { ref, now } = options;
    return this.commits.enqueue(() => {
      this.settleKey(ref);
      const version = this.versions.find(ref, options.versionId);
      const current = this.ranges.findFull.get(keyParams(ref)) as FullObjectRow | undefined;
      const currentRow = current && (current.expires_at === null || current.expires_at > now) ? current : undefined;
      if (options.ifCurrent !== undefined && (currentRow ? (currentRow.version_id ?? NULL_VERSION_ID) : null) !== options.ifCurrent)
        throw fail('PreconditionFailed', `${ref.type}/${ref.key} changed since the restore looked at it`);
      if (currentRow && (currentRow.version_id ?? 'null') === options.versionId) return rowFromColumns(currentRow, this.attributes);
      if (!version || version.delete_marker) throw fail('NoSuchVersion', `No version ${options.versionId} of ${ref.type}/${ref.key}`);
      const value = rowFromColumns(version, this.attributes);
      if (currentRow && sameValue(currentRow, version)) return rowFromColumns(currentRow, this.attributes);
      this.putRow({ ref, row: value, condition: undefined, now, collectAfter: options.collectAfter, purgeAfter: options.purgeAfter });
      return rowFromColumns(this.ranges.findFull.get(keyParams(ref)) as FullObjectRow, this.attributes);
    });
  }

  expireLoneMarker({ ref, at }: { ref: ObjectRef; at: number }): Promise<boolean> {
    return this.commits.enqueue(() => this.versions.expireLoneMarker(ref, at));
  }

  async purgeVersions({ now, limit, collectAfter, keptNewer }: PurgeVersionsOptions): Promise<number> {
    // The sweeper's round also files what writes left unfiled (after a restart, or `stowage
    // migrate` into this directory), so that readers scan no more than a batch beside the orders:
    // in the purge's commit, but as an operation of its own, so that it cannot keep the purge
    // from freeing space.
    void this.versions.fileSoon();
    return this.commits.enqueue(() => {
      const { settled, blobIds } = this.versions.purge(now, limit, keptNewer);
      for (const id of blobIds) this.sql.queueGarbage.run(id, collectAfter);
      return settled;
    });
  }

  async setQuota(tenant: string, quotaBytes: number | null | 'default'): Promise<void> {
    const { setTenantQuota, clearTenantQuota } = this.db.statements;
    await this.commits.enqueue(() =>
      quotaBytes === 'default' ? clearTenantQuota.run(tenant) : setTenantQuota.run({ tenant, quotaBytes }),
    );
  }

  async quotaSource(tenant: string): Promise<'tenant' | 'default'> {
    return (this.db.statements.tenantQuota.get(tenant) as QuotaOverride) ? 'tenant' : 'default';
  }

  async sweepExpired({ now, limit, collectAfter }: { now: number; limit: number; collectAfter: number }): Promise<number> {
    const { expired, deleteExpired } = this.db.statements;
    const ids = expired.all(now, limit) as Array<{ id: number; soft: number }>;
    if (ids.length === 0) return 0;
    // A write may have replaced a row (same id, new value) since the SELECT: the DELETE checks
    // the expiry again and says what it removed, so a fresh value is neither deleted nor uncounted.
    return this.commits.enqueue(() => {
      let removed = 0;
      for (const { id, soft } of ids) {
        // A row deleted under retention is a version: it goes into the versions table, not away.
        if (soft && this.versions.settle(id)) {
          removed++;
          continue;
        }
        const row = deleteExpired.get(id, now) as ExpiredRow | undefined;
        if (!row) continue;
        this.cache.drop({ tenant: row.tenant, type: row.type, key: row.key.toString('utf8') });
        this.ledger.charge(row.tenant, row.type, -row.size, -1);
        if (row.blob_id) this.sql.queueGarbage.run(row.blob_id, collectAfter);
        removed++;
      }
      return removed;
    });
  }

  async takeGarbage({ now, limit, leaseMs }: { now: number; limit: number; leaseMs: number }): Promise<string[]> {
    return this.commits.enqueue(() => {
      const taken: string[] = [];
      // A backup copying the blobs of a snapshot holds the collector off (gc-holds.ts). Its lease
      // is on the wall clock of another process; `now` is past every due time at start-up.
      if (this.sql.gcHeld.get(Date.now()) !== undefined) return taken;
      // Copies share blobs: one that a row still names is not garbage (see ObjectIndex.takeGarbage).
      for (let wanted = limit; wanted > 0; wanted = limit - taken.length) {
        const due = this.sql.dueGarbage.all(now, wanted) as string[];
        for (const id of due) {
          if (this.db.statements.blobInUse.get(id) !== undefined) this.sql.forgetGarbage.run(id);
          else {
            this.sql.leaseGarbage.run(now + leaseMs, id);
            taken.push(id);
          }
        }
        if (due.length < wanted) break;
      }
      return taken;
    });
  }

  async dissolveManifests({ manifestIds, collectAfter }: { manifestIds: readonly string[]; collectAfter: number }): Promise<void> {
    if (manifestIds.length === 0) return;
    await this.commits.enqueue(() => {
      for (const id of manifestIds) {
        // A manifest a row names is no garbage (see takeGarbage); it only leaves the queue.
        if (this.db.statements.blobInUse.get(id) === undefined)
          for (const blobId of this.manifests.dissolve(id)) this.sql.queueGarbage.run(blobId, collectAfter);
        this.sql.forgetGarbage.run(id);
      }
    });
  }

  async manifestParts(manifestId: string): Promise<ManifestPart[]> {
    return this.manifests.parts(manifestId);
  }

  async forgetGarbage(blobIds: readonly string[]): Promise<void> {
    if (blobIds.length === 0) return;
    await this.commits.enqueue(() => {
      for (const id of blobIds) this.sql.forgetGarbage.run(id);
    });
  }

  async queueGarbage({ blobIds, collectAfter }: { blobIds: readonly string[]; collectAfter: number }): Promise<void> {
    if (blobIds.length === 0) return;
    await this.commits.enqueue(() => {
      for (const id of blobIds) this.sql.queueGarbage.run(id, collectAfter);
    });
  }

  async knownBlobs(blobIds: readonly string[]): Promise<Set<string>> {
    const known = (id: string) =>
      this.db.statements.blobInUse.get(id) !== undefined ||
      this.sql.garbageQueued.get(id) !== undefined ||
      this.sql.stagingNames.get(`%${id}%`) !== undefined;
    // One process owns the database and each lookup is an index probe: no need to batch the SQL.
    return new Set(blobIds.filter(known));
  }

  async openUpload(grant: UploadGrantInfo): Promise<UploadRecord> {
    const { insertUpload } = this.db.statements;
    await this.commits.enqueue(() =>
      insertUpload.run({
        upload_id: grant.uploadId,
        tenant: grant.ref.tenant,
        type: grant.ref.type,
        key: Buffer.from(grant.ref.key, 'utf8'),
        content_type: grant.contentType,
        expires_at: grant.sessionExpiresAt,
        object_expires_at: grant.objectExpiresAt ?? null,
      }),
    );
    const record = await this.findUpload(grant.uploadId);
    if (!record) throw new Error(`upload ${grant.uploadId} vanished right after it was created`);
    return record;
  }

  async findUpload(uploadId: string): Promise<UploadRecord | undefined> {
    const row = this.db.statements.findUpload.get(uploadId) as UploadRow | undefined;
    return row && toRecord(row);
  }

  async claimUpload({ uploadId, offset, needsPart, continues }: ClaimUploadOptions): Promise<UploadClaim | undefined> {
    return this.commits.enqueue(() => {
      const claim = this.sql.claim.get({ uploadId, offset, part: needsPart ? 1 : 0, continues: continues ?? null }) as
        | { attempt: number; next_part: number }
        | undefined;
      return claim && { attempt: claim.attempt, partNumber: needsPart ? claim.next_part : undefined };
    });
  }

  async advanceUpload(options: AdvanceUploadOptions): Promise<boolean> {
    return this.commits.enqueue(
      () =>
        this.sql.advance.run({
          uploadId: options.uploadId,
          attempt: options.attempt,
          received: options.received,
          total: options.total ?? null,
          hashState: options.hashState,
          staging: options.staging,
        }).changes > 0,
    );
  }

  async cancelUpload(uploadId: string): Promise<void> {
    const { cancelUpload } = this.db.statements;
    await this.commits.enqueue(() => cancelUpload.run(uploadId));
  }

  async deleteUpload(uploadId: string): Promise<void> {
    const { deleteUpload } = this.db.statements;
    await this.commits.enqueue(() => deleteUpload.run(uploadId));
  }

  async expiredUploads({ now, limit }: { now: number; limit: number }): Promise<UploadRecord[]> {
    return (this.sql.expiredUploads.all(now, limit) as UploadRow[]).map(toRecord);
  }

  async isUploadOpen(uploadId: string): Promise<boolean> {
    return this.sql.uploadOpen.get(uploadId) !== undefined;
  }

  async claimChore({ name, now, intervalMs }: { name: string; now: number; intervalMs: number }): Promise<boolean> {
    return this.commits.enqueue(() => this.sql.claimChore.get({ name, now, next: now + intervalMs }) !== undefined);
  }

  async checkReady(): Promise<void> {
    this.db.statements.ping.get();
  }

  async close(): Promise<void> {
    // The thread first: the main connection, the last to close, checkpoints the WAL away.
    await this.upkeep?.close();
    this.commits.flush();
    this.db.db.close();
  }

  /** Inside a commit: removes the row of `ref` (expired or not), charging and queueing its blob. */
  private removeRow(
    ref: ObjectRef,
    now: number,
    collectAfter: number,
    purgeAfter: number | undefined,
    markerVersionId?: string,
  ): { size: number; visible: boolean } | undefined {
    this.cache.drop(ref);
    const row = this.db.statements.findAny.get(keyParams(ref)) as AnyObjectRow | undefined;
    // A row deleted in place already is a version, which a delete leaves alone.
    if (!row || row.deleted_purge !== null) return undefined;
    const visible = row.expires_at === null || row.expires_at > now;
    this.ledger.charge(ref.tenant, ref.type, -row.size, -1);
    // Retention: a visible row becomes a noncurrent version and a delete marker, where it is.
    if (visible && purgeAfter !== undefined) {
      this.versions.softDelete(row.id, now, purgeAfter, markerVersionId ?? newVersionId(now));
      return { size: row.size, visible };
    }
    this.db.statements.deleteById.run(row.id);
    if (row.blob_id) this.sql.queueGarbage.run(row.blob_id, collectAfter);
    return { size: row.size, visible };
  }

  /**
   * Inside a commit: writes `source`'s value at `to` (and removes `from` for a move). Undefined,
   * writing nothing, when a visible destination exists and `overwrite` is not set.
   */
  private transferRow(
    source: FullObjectRow,
    from: ObjectRef,
    to: ObjectRef,
    options: Pick<
      TransferOptions,
      | 'move'
      | 'overwrite'
      | 'now'
      | 'lastModified'
      | 'expiresAtIfNone'
      | 'expiresAt'
      | 'collectAfter'
      | 'replace'
      | 'purgeAfter'
      | 'sourcePurgeAfter'
    >,
  ): IndexRow | undefined {
    const { findAny, upsert, deleteById } = this.db.statements;
    const params = keyParams(to);
    const found = findAny.get(params) as AnyObjectRow | undefined;
    const exists = visibleEtag(found && { sha256: found.sha256, expiresAt: found.expires_at }, options.now) !== undefined;
    if (exists && !options.overwrite) return undefined;
    const previous = this.unlessKept(found);
    const { versionId: _from, currentSince: _since, ...value } = transferredRow(rowFromColumns(source, this.attributes), options);
    const versionId = newVersionId(options.now);
    const row: IndexRow = { ...value, versionId, currentSince: options.now };
    this.cache.drop(to);
    const changes: UsageChange[] = [];
    if (options.move) {
      this.cache.drop(from);
      if (options.sourcePurgeAfter !== undefined)
        this.versions.softDelete(source.id, options.now, options.sourcePurgeAfter, newVersionId(options.now));
      else deleteById.run(source.id);
      // The tenant pays a move's net change; each bucket its own side.
      if (from.tenant === to.tenant) changes.push({ type: from.type, bytes: -source.size, objects: -1 });
      else this.ledger.charge(from.tenant, from.type, -source.size, -1);
    }
    changes.push({ type: to.type, bytes: row.size - (previous?.size ?? 0), objects: previous ? 0 : 1, stores: true });
    this.ledger.chargeAll(to.tenant, changes);
    const retained = previous !== undefined && exists && options.purgeAfter !== undefined;
    if (retained) this.versions.archive(previous.id, options.now, options.purgeAfter as number);
    upsert.run({ ...params, ...columnsFromRow(row) });
    if (!retained && previous?.blob_id && previous.blob_id !== row.blobId)
      this.sql.queueGarbage.run(previous.blob_id, options.collectAfter);
    return { ...value, versionId };
  }

  /**
   * Inside a commit, before a row is written where `row` is: a row deleted in place is settled
   * into the versions first (and is then no row at all); any other row is returned as it is.
   */
  private unlessKept(row: AnyObjectRow | undefined): AnyObjectRow | undefined {
    if (row?.deleted_purge == null) return row;
    this.versions.settle(row.id);
    return undefined;
  }

  /** Inside a commit, before the versions of `ref` are read or changed: its row deleted in place, if any, is settled. */
  private settleKey(ref: ObjectRef): void {
    this.unlessKept(this.db.statements.findAny.get(keyParams(ref)) as AnyObjectRow | undefined);
  }

  /** Settles every row deleted in place into the versions table (before `stowage migrate` copies the index); how many. */
  async settleDeleted(): Promise<number> {
    return this.commits.enqueue(() => this.versions.settleAll());
  }

  /** Ends a session inside the commit that stores its object; throws if it already ended. */
  private markCompleted(uploadId: string, info: ObjectInfo): void {
    const { findUpload, completeUpload } = this.db.statements;
    const row = findUpload.get(uploadId) as UploadRow | undefined;
    if (!row || row.cancelled) throw fail('NoSuchUpload');
    if (row.completed_json) throw fail('UploadOffsetMismatch', 'The upload is already complete');
    completeUpload.run({ upload_id: uploadId, completed_json: JSON.stringify(info) });
  }
}

function prepareUploadStatements({ db }: IndexDb) {
  return {
    claim: db.prepare(
      `UPDATE uploads SET attempt = attempt + 1, next_part = next_part + @part
       WHERE upload_id = @uploadId AND received = @offset AND completed_json IS NULL AND cancelled = 0
         AND (@continues IS NULL OR attempt = @continues)
       RETURNING attempt, next_part`,
    ),
    advance: db.prepare(
      `UPDATE uploads SET received = @received, total = @total, hash_state = @hashState, staging = @staging
       WHERE upload_id = @uploadId AND attempt = @attempt AND completed_json IS NULL AND cancelled = 0`,
    ),
    expiredUploads: db.prepare<[number, number]>('SELECT * FROM uploads WHERE expires_at <= ? ORDER BY expires_at LIMIT ?'),
    uploadOpen: db.prepare<[string]>('SELECT 1 FROM uploads WHERE upload_id = ? AND completed_json IS NULL AND cancelled = 0').pluck(),
    stagingNames: db.prepare<[string]>('SELECT 1 FROM uploads WHERE staging LIKE ? LIMIT 1').pluck(),
    queueGarbage: db.prepare<[string, number]>('INSERT INTO gc_queue (blob_id, due_at) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    dueGarbage: db.prepare<[number, number]>('SELECT blob_id FROM gc_queue WHERE due_at <= ? ORDER BY due_at LIMIT ?').pluck(),
    leaseGarbage: db.prepare<[number, string]>('UPDATE gc_queue SET due_at = ? WHERE blob_id = ?'),
    forgetGarbage: db.prepare<[string]>('DELETE FROM gc_queue WHERE blob_id = ?'),
    garbageQueued: db.prepare<[string]>('SELECT 1 FROM gc_queue WHERE blob_id = ?').pluck(),
    gcHeld: db.prepare<[number]>(GC_HELD).pluck(),
    claimChore: db.prepare(
      `INSERT INTO chores (name, next_at) VALUES (@name, @next)
       ON CONFLICT (name) DO UPDATE SET next_at = excluded.next_at WHERE chores.next_at <= @now
       RETURNING name`,
    ),
  } satisfies Record<string, Statement<never[]> | Statement>;
}

function rowFromVisibleTuple(
  [size, sha256, contentType, lastModified, expiresAt, blobId, inline, attributes, versionId]: VisibleRowTuple,
  layout: AttributeFields,
): IndexRow {
  const row = { size, sha256, contentType, lastModified, expiresAt, blobId, inline, attributes: parseAttributes(attributes, layout) };
  return { ...row, versionId: versionId ?? NULL_VERSION_ID };
}

/** Whether two rows hold the same value (bytes, type, attributes, expiry): a restore of one onto the other changes nothing. */
export function sameValue(a: ObjectColumnsLike, b: ObjectColumnsLike): boolean {
  return (
    a.sha256 === b.sha256 &&
    a.size === b.size &&
    a.content_type === b.content_type &&
    a.attributes === b.attributes &&
    a.expires_at === b.expires_at
  );
}

type ObjectColumnsLike = Pick<FullObjectRow, 'sha256' | 'size' | 'content_type' | 'attributes' | 'expires_at'>;

function rangeParams(range: KeyRange, extra: Record<string, number>) {
  return { tenant: range.tenant, type: range.type, start: range.start, end: range.end ?? KEY_SPACE_END, ...extra };
}

function keyParams(ref: ObjectRef) {
  return { tenant: ref.tenant, type: ref.type, key: Buffer.from(ref.key, 'utf8') };
}

function toRecord(row: UploadRow): UploadRecord {
  if (!isObjectType(row.type)) throw new Error(`bad storage type or bucket name in upload ${row.upload_id}`);
  return {
    uploadId: row.upload_id,
    ref: { tenant: row.tenant, type: row.type, key: row.key.toString('utf8') },
    contentType: row.content_type,
    expiresAt: row.expires_at,
    received: row.received,
    total: row.total ?? undefined,
    completed: row.completed_json ? (JSON.parse(row.completed_json) as ObjectInfo) : undefined,
    cancelled: row.cancelled !== 0,
    hashState: row.hash_state,
    staging: row.staging,
    attempt: row.attempt,
  };
}
