import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ApiKeyStore } from '../../auth/api-keys.js';
import { fail } from '../../errors.js';
import type { AttributeLayout, ListPage, ObjectRef, TenantUsage, UploadGrantInfo } from '../backend.js';
import type { BucketSettingsStore } from '../bucket-settings.js';
import type { BucketStore } from '../buckets.js';
import type { ManifestPart } from '../composite.js';
import { assertCondition, visibleEtag } from '../conditions.js';
import { listStart, prefixUpperBound } from '../key-range.js';
import {
  type AttributeFields,
  attributeFields,
  NULL_VERSION_ID,
  newVersionId,
  type ObjectColumns,
  rowFromColumns,
  serializeAttributes,
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
import { PgApiKeyStore } from './pg-api-keys.js';
import { PgBucketSettings } from './pg-bucket-settings.js';
import { PgBuckets } from './pg-buckets.js';
import { checkSchemaName, clientConfig, connectOnce, describeTarget, type PgConnectOptions, parseTarget } from './pg-connect.js';
import { PgDb, type Queries, statement } from './pg-db.js';
import { describeCause } from './pg-errors.js';
import { PgGarbage } from './pg-garbage.js';
import { PgLedger } from './pg-ledger.js';
import { PgManifests } from './pg-manifests.js';
import { PgRanges } from './pg-ranges.js';
import { migrate } from './pg-schema.js';
import { PgUploads } from './pg-uploads.js';
import { PgVersions } from './pg-versions.js';

export interface PgIndexOptions extends PgConnectOptions {
  /** Quota of tenants the `tenants` table does not name; null for unlimited. */
  readonly defaultQuotaBytes: number | null;
  /** Which stored attribute fields describe the bytes (the domain's). */
  readonly attributeLayout: AttributeLayout;
}

const VISIBLE = '(expires_at IS NULL OR expires_at > $4)';
const KEY = 'tenant = $1 AND type = $2 AND key = $3';

const FIND_VISIBLE = statement(
  'object_find',
  `SELECT size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes, version_id
   FROM objects WHERE ${KEY} AND ${VISIBLE}`,
);
// Writers of one key queue here, across every server sharing the database, until commit.
const LOCK_KEY = statement('object_lock_key', 'SELECT pg_advisory_xact_lock($1::bigint)');
const FIND_FOR_UPDATE = statement(
  'object_find_for_update',
  `SELECT id, size, sha256, expires_at, blob_id FROM objects WHERE ${KEY} FOR UPDATE`,
);
const UPSERT = statement(
  'object_upsert_versioned',
  `INSERT INTO objects (tenant, type, key, size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes,
     version_id, current_since)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
   ON CONFLICT (tenant, type, key) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256,
     content_type = excluded.content_type, last_modified = excluded.last_modified,
     expires_at = excluded.expires_at, blob_id = excluded.blob_id, inline_data = excluded.inline_data,
     attributes = excluded.attributes, version_id = excluded.version_id, current_since = excluded.current_since`,
);
const FIND_CURRENT = statement(
  'object_find_current',
  `SELECT id, size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes, version_id, current_since
   FROM objects WHERE ${KEY} FOR UPDATE`,
);
const DELETE_BY_ID = statement('object_delete', 'DELETE FROM objects WHERE id = $1');
const LIST_RANGE = statement(
  'object_list_range',
  `SELECT key FROM objects WHERE tenant = $1 AND type = $2 AND key >= $3 AND key < $5 AND ${VISIBLE} ORDER BY key LIMIT $6`,
);
const LIST_FROM = statement(
  'object_list_from',
  `SELECT key FROM objects WHERE tenant = $1 AND type = $2 AND key >= $3 AND ${VISIBLE} ORDER BY key LIMIT $5`,
);
// SKIP LOCKED: sweepers on other servers take other rows, and a row a writer holds is left to it.
// A row replaced since the statement began is re-checked against its expiry once locked.
const SWEEP = statement(
  'object_sweep',
  `DELETE FROM objects
   WHERE id IN (SELECT id FROM objects WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
     AND expires_at <= $1
   RETURNING tenant, type, size, blob_id`,
);
// One statement: the row is created due, or taken only when due, so two servers never both get a turn.
const CLAIM_CHORE = statement(
  'chore_claim',
  `INSERT INTO chores (name, next_at) VALUES ($1, $3)
   ON CONFLICT (name) DO UPDATE SET next_at = EXCLUDED.next_at WHERE chores.next_at <= $2
   RETURNING name`,
);
const PING = statement('ping', 'SELECT 1');

interface PreviousRow {
  id: number;
  size: number;
  sha256: string;
  expires_at: number | null;
  blob_id: string | null;
}

/**
 * The scale-out index: PostgreSQL, shared by every server. Each write is one transaction that
 * takes the key's advisory lock (so writers of one key are serialized across servers), checks
 * the condition against the row visible at `now`, charges the tenant's usage (whose row lock
 * serializes the quota check), and queues the replaced blob. Background work (sweeping, blob
 * collection) claims rows with FOR UPDATE SKIP LOCKED, so any number of servers can run it.
 */
export class PgIndex implements ObjectIndex {
  readonly apiKeys: ApiKeyStore;
  readonly bucketSettings: BucketSettingsStore;
  readonly buckets: BucketStore;
  private readonly ledger: PgLedger;
  private readonly uploads: PgUploads;
  private readonly garbage: PgGarbage;
  private readonly ranges: PgRanges;
  private readonly versions: PgVersions;
  private readonly manifests: PgManifests;

  private constructor(
    private readonly db: PgDb,
    private readonly schema: string,
    defaultQuotaBytes: number | null,
    private readonly attributes: AttributeFields,
  ) {
    this.ledger = new PgLedger(db, defaultQuotaBytes);
    this.uploads = new PgUploads(db);
    this.garbage = new PgGarbage(db);
    this.manifests = new PgManifests(db, this.garbage);
    this.versions = new PgVersions(db, attributes);
    this.ranges = new PgRanges(db, this.ledger, this.garbage, this.versions, (ref) => this.lockKey(ref), attributes);
    this.apiKeys = new PgApiKeyStore(db);
    this.bucketSettings = new PgBucketSettings(db);
    this.buckets = new PgBuckets(db, this.ledger, this.garbage);
  }

  /**
   * Connects, creates the schema if missing and applies pending migrations (once, however many
   * servers start together). Fails fast with a readable message naming host:port and the cause
   * (never the password) when the URL is bad or the database cannot be reached or entered.
   */
  static async open(options: PgIndexOptions): Promise<PgIndex> {
    const target = parseTarget(options.connectionString);
    const schema = checkSchemaName(options.schema ?? 'public');
    const config = clientConfig(options, schema);
    const client = await connectOnce(config, target);
    try {
      await migrate(client, schema);
    } catch (error) {
      throw new Error(
        `Cannot prepare the PostgreSQL index at ${describeTarget(target)} (database "${target.database}", schema "${schema}"): ${describeCause(error, target.password)}`,
        { cause: error },
      );
    } finally {
      await client.end().catch(() => {});
    }
    const pool = new pg.Pool({ ...config, max: options.poolSize ?? 20, idleTimeoutMillis: 30_000 });
    return new PgIndex(new PgDb(pool), schema, options.defaultQuotaBytes, attributeFields(options.attributeLayout));
  }

  async find({ ref, now }: { ref: ObjectRef; now: number }): Promise<IndexRow | undefined> {
    const { rows } = await this.db.run<ObjectColumns>(FIND_VISIBLE, [...keyParams(ref), now]);
    return rows[0] && rowFromColumns(rows[0], this.attributes);
  }

  async put(options: PutRowOptions): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.putIn(tx, options, await this.lockRow(tx, options.ref));
    });
  }

  /** put's work in `tx`, with the key's lock and its row (`previous`) held. */
  private async putIn(tx: Queries, options: PutRowOptions, previous: PreviousRow | undefined): Promise<void> {
    const { ref } = options;
    const row: IndexRow = { ...options.row, versionId: options.row.versionId ?? newVersionId(options.now), currentSince: options.now };
    const previousEtag = visibleEtag(previous && { sha256: previous.sha256, expiresAt: previous.expires_at }, options.now);
    assertCondition(previousEtag, options.condition);
    // A composite value's parts are read (and locked) before `releases` removes their rows.
    if (options.composes) await this.manifests.write(tx, row.blobId as string, options.composes, options.now);
    const released = options.releases
      ? await this.ranges.releaseIn(tx, options.releases, options.now, options.collectAfter)
      : { bytes: 0, objects: 0 };
    // Retention: the replaced value stays, as a noncurrent version (its blob stays named).
    const retained = previous !== undefined && previousEtag !== undefined && options.purgeAfter !== undefined;
    if (retained)
      await this.versions.archive(tx, [{ id: previous.id, key: utf8(ref.key) }], ref, options.now, options.purgeAfter as number, false);
    await upsertRow(tx, ref, row, row.versionId, row.currentSince);
    // The usage charge comes last before the commit: other writers of the tenant (and of a named
    // bucket, whose row is charged too) wait for its row locks only for the commit itself. A
    // refusal (quota, no such bucket) rolls back everything above.
    await this.ledger.chargeAll(tx, ref.tenant, [
      ...(options.releases ? [{ type: options.releases.type, bytes: -released.bytes, objects: -released.objects }] : []),
      { type: ref.type, bytes: row.size - (previous?.size ?? 0), objects: previous ? 0 : 1, stores: true },
    ]);
    if (options.completesUpload) await this.uploads.markCompleted(tx, options.completesUpload, infoOf(row));
    if (!retained && previous?.blob_id && previous.blob_id !== row.blobId)
      await this.garbage.queue([previous.blob_id], options.collectAfter, tx);
  }

  async remove(options: RemoveRowOptions): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const row = await this.lockRow(tx, options.ref);
      const etag = visibleEtag(row && { sha256: row.sha256, expiresAt: row.expires_at }, options.now);
      assertCondition(etag, options.condition);
      // An expired row not yet swept goes too, but was not there for the caller.
      const purgeAfter = etag !== undefined ? options.purgeAfter : undefined;
      if (row) await this.removeLocked(tx, options.ref, row, options.collectAfter, purgeAfter, options.now, options.markerVersionId);
      return etag !== undefined;
    });
  }

  async removeMany(options: RemoveManyOptions): Promise<Array<number | undefined>> {
    const refs = options.keys.map((key) => ({ tenant: options.tenant, type: options.type, key }));
    return this.db.transaction(async (tx) => {
      // Every key lock first, in one order, so two such batches cannot deadlock.
      const locks = [...new Set(refs.map((ref) => this.lockKey(ref)))].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
      for (const lock of locks) await tx.run(LOCK_KEY, [lock]);
      const sizes: Array<number | undefined> = [];
      for (const ref of refs) {
        const { rows } = await tx.run<PreviousRow>(FIND_FOR_UPDATE, keyParams(ref));
        const row = rows[0];
        const visible = row && visibleEtag({ sha256: row.sha256, expiresAt: row.expires_at }, options.now) !== undefined;
        if (row)
          await this.removeLocked(tx, ref, row, options.collectAfter, visible ? options.purgeAfter?.(ref.key) : undefined, options.now);
        sizes.push(row && visible ? row.size : undefined);
      }
      return sizes;
    });
  }

  scan(options: ScanOptions): Promise<ScannedKey[]> {
    return this.ranges.scan(options);
  }

  countRange(options: KeyRange & { now: number }): Promise<{ objects: number; bytes: number }> {
    return this.ranges.count(options);
  }

  removeRange(options: RemoveRangeOptions): Promise<RangeStep> {
    return this.ranges.remove(options);
  }

  transfer(options: TransferOptions): Promise<IndexRow> {
    return this.ranges.transfer(options);
  }

  transferRange(options: TransferRangeOptions): Promise<RangeStep> {
    return this.ranges.transferRange(options);
  }

  async list(options: ListRowsOptions): Promise<ListPage> {
    const prefix = Buffer.from(options.prefix, 'utf8');
    const start = listStart(prefix, options.after);
    const end = prefixUpperBound(prefix);
    const base = [options.tenant, options.type, start, options.now];
    const { rows } = end
      ? await this.db.run<{ key: Buffer }>(LIST_RANGE, [...base, end, options.limit + 1])
      : await this.db.run<{ key: Buffer }>(LIST_FROM, [...base, options.limit + 1]);
    const truncated = rows.length > options.limit;
    return { keys: rows.slice(0, options.limit).map((row) => row.key.toString('utf8')), truncated };
  }

  async usage(tenant: string): Promise<TenantUsage> {
    return this.ledger.read(tenant);
  }

  async setQuota(tenant: string, quotaBytes: number | null | 'default'): Promise<void> {
    await this.ledger.setQuota(tenant, quotaBytes);
  }

  async quotaSource(tenant: string): Promise<'tenant' | 'default'> {
    return this.ledger.quotaSource(tenant);
  }

  async sweepExpired({ now, limit, collectAfter }: { now: number; limit: number; collectAfter: number }): Promise<number> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.run<{ tenant: string; type: string; size: number; blob_id: string | null }>(SWEEP, [now, limit]);
      const freed = new Map<string, Map<string, { type: string; bytes: number; objects: number }>>();
      for (const row of rows) {
        const types = freed.get(row.tenant) ?? new Map<string, { type: string; bytes: number; objects: number }>();
        const change = types.get(row.type) ?? { type: row.type, bytes: 0, objects: 0 };
        change.bytes -= row.size;
        change.objects -= 1;
        types.set(row.type, change);
        freed.set(row.tenant, types);
      }
      // Usage and bucket rows are locked in one order by every sweeper (tenant by tenant, each
      // one's buckets by name, then its usage row), so two sweepers cannot deadlock.
      for (const tenant of [...freed.keys()].sort()) {
        await this.ledger.chargeAll(tx, tenant, [...(freed.get(tenant)?.values() ?? [])]);
      }
      const blobIds = rows.flatMap((row) => (row.blob_id ? [row.blob_id] : []));
      await this.garbage.queue(blobIds, collectAfter, tx);
      return rows.length;
    });
  }

  async retained({ tenant, type }: { tenant: string; type?: string | undefined }): Promise<{ bytes: number; versions: number }> {
    return this.versions.retained(tenant, type);
  }

  async removeVersion({ ref, versionId, collectAfter }: { ref: ObjectRef; versionId: string; collectAfter: number }) {
    return this.db.transaction(async (tx) => {
      const removed = await this.versions.remove(tx, ref, versionId);
      if (!removed) return undefined;
      if (removed.blob_id) await this.garbage.queue([removed.blob_id], collectAfter, tx);
      return { deleteMarker: removed.delete_marker };
    });
  }

  async deleteVersion({ ref, versionId, now, collectAfter }: { ref: ObjectRef; versionId: string; now: number; collectAfter: number }) {
    return this.db.transaction(async (tx) => {
      await tx.run(LOCK_KEY, [this.lockKey(ref)]);
      const current = (await tx.run<ObjectColumns & PreviousRow>(FIND_CURRENT, keyParams(ref))).rows[0];
      const visible = current !== undefined && (current.expires_at === null || Number(current.expires_at) > now);
      if (current && visible && (current.version_id ?? NULL_VERSION_ID) === versionId) {
        await this.removeLocked(tx, ref, current, collectAfter);
        return { deleteMarker: false, promoted: await this.promoteNewest(tx, ref) };
      }
      const newest = await this.versions.newest(tx, ref);
      // The key's newest delete marker: what the key is now (deleted).
      const latestMarker = !visible && newest !== undefined && newest.delete_marker && newest.version_id === versionId;
      const removed = await this.versions.remove(tx, ref, versionId);
      if (!removed) return undefined;
      if (removed.blob_id) await this.garbage.queue([removed.blob_id], collectAfter, tx);
      let promoted: string | undefined;
      if (latestMarker) {
        // An expired row not yet swept makes room for the version that becomes current.
        if (current) await this.removeLocked(tx, ref, current, collectAfter);
        promoted = await this.promoteNewest(tx, ref);
      }
      return { deleteMarker: removed.delete_marker, promoted };
    });
  }

  /** In `tx`, with the key's lock held and no current row: the newest version of `ref`, if a value, becomes the current row; its version id. */
  private async promoteNewest(tx: Queries, ref: ObjectRef): Promise<string | undefined> {
    const next = await this.versions.newest(tx, ref);
    if (!next || next.delete_marker) return undefined;
    await this.versions.removeId(tx, next.id);
    const row = rowFromColumns(next, this.attributes);
    await upsertRow(tx, ref, row, next.version_id, Number(next.current_since));
    // Not a write the quota judges: a value the key held comes back as it was.
    await this.ledger.charge(tx, ref.tenant, ref.type, Number(next.size), 1);
    return next.version_id;
  }

  async findVersion({ ref, versionId, now }: { ref: ObjectRef; versionId: string; now: number }): Promise<IndexRow | undefined> {
    const found = await this.versions.findValue(ref, versionId, now);
    return found && rowFromColumns(found, this.attributes);
  }

  listVersions(options: ListVersionsOptions): Promise<VersionRow[]> {
    return this.versions.list(options);
  }

  async restoreVersion(options: RestoreVersionOptions): Promise<IndexRow> {
    const { ref, now } = options;
    return this.db.transaction(async (tx) => {
      await tx.run(LOCK_KEY, [this.lockKey(ref)]);
      const found = (await tx.run<ObjectColumns & PreviousRow>(FIND_CURRENT, keyParams(ref))).rows[0];
      const current = found && (found.expires_at === null || Number(found.expires_at) > now) ? found : undefined;
      if (options.ifCurrent !== undefined && (current ? (current.version_id ?? NULL_VERSION_ID) : null) !== options.ifCurrent)
        throw fail('PreconditionFailed', `${ref.type}/${ref.key} changed since the restore looked at it`);
      if (current && (current.version_id ?? NULL_VERSION_ID) === options.versionId) return rowFromColumns(current, this.attributes);
      // Locked: a purge skips it, so the blob it names stays named by the row made from it.
      const version = await this.versions.find(tx, ref, options.versionId);
      if (!version || version.delete_marker) throw fail('NoSuchVersion', `No version ${options.versionId} of ${ref.type}/${ref.key}`);
      if (current && sameValue(current, version)) return rowFromColumns(current, this.attributes);
      const row = rowFromColumns(version, this.attributes);
      await this.putIn(
        tx,
        { ref, row, condition: undefined, now, collectAfter: options.collectAfter, purgeAfter: options.purgeAfter },
        found,
      );
      const { rows } = await tx.run<ObjectColumns & PreviousRow>(FIND_CURRENT, keyParams(ref));
      return rowFromColumns(rows[0] as ObjectColumns, this.attributes);
    });
  }

  expireLoneMarker({ ref, at }: { ref: ObjectRef; at: number }): Promise<boolean> {
    return this.versions.expireLoneMarker(ref, at);
  }

  async purgeVersions({ now, limit, collectAfter, keptNewer }: PurgeVersionsOptions): Promise<number> {
    return this.db.transaction(async (tx) => {
      const { settled, blobIds } = await this.versions.purge(tx, now, limit, keptNewer);
      await this.garbage.queue(
        blobIds.filter((id) => id !== ''),
        collectAfter,
        tx,
      );
      return settled;
    });
  }

  async takeGarbage(options: { now: number; limit: number; leaseMs: number }): Promise<string[]> {
    return this.garbage.take(options);
  }

  dissolveManifests({ manifestIds, collectAfter }: { manifestIds: readonly string[]; collectAfter: number }): Promise<void> {
    return manifestIds.length === 0 ? Promise.resolve() : this.manifests.dissolve(manifestIds, collectAfter);
  }

  manifestParts(manifestId: string): Promise<ManifestPart[]> {
    return this.manifests.parts(manifestId);
  }

  async forgetGarbage(blobIds: readonly string[]): Promise<void> {
    await this.garbage.forget(blobIds);
  }

  async queueGarbage({ blobIds, collectAfter }: { blobIds: readonly string[]; collectAfter: number }): Promise<void> {
    await this.garbage.queue(blobIds, collectAfter);
  }

  async knownBlobs(blobIds: readonly string[]): Promise<Set<string>> {
    return this.garbage.known(blobIds);
  }

  async openUpload(grant: UploadGrantInfo): Promise<UploadRecord> {
    return this.uploads.open(grant);
  }

  async findUpload(uploadId: string): Promise<UploadRecord | undefined> {
    return this.uploads.find(uploadId);
  }

  async claimUpload(options: ClaimUploadOptions): Promise<UploadClaim | undefined> {
    return this.uploads.claim(options);
  }

  async advanceUpload(options: AdvanceUploadOptions): Promise<boolean> {
    return this.uploads.advance(options);
  }

  async cancelUpload(uploadId: string): Promise<void> {
    await this.uploads.cancel(uploadId);
  }

  async deleteUpload(uploadId: string): Promise<void> {
    await this.uploads.delete(uploadId);
  }

  async expiredUploads(options: { now: number; limit: number }): Promise<UploadRecord[]> {
    return this.uploads.expired(options);
  }

  async isUploadOpen(uploadId: string): Promise<boolean> {
    return this.uploads.isOpen(uploadId);
  }

  async claimChore({ name, now, intervalMs }: { name: string; now: number; intervalMs: number }): Promise<boolean> {
    const { rows } = await this.db.run(CLAIM_CHORE, [name, now, now + intervalMs]);
    return rows.length > 0;
  }

  async checkReady(): Promise<void> {
    await this.db.run(PING, []);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** Inside `tx`, with the row of `ref` locked: deletes it, charges the tenant (and bucket), queues its blob. */
  private async removeLocked(
    tx: Queries,
    ref: ObjectRef,
    row: PreviousRow,
    collectAfter: number,
    purgeAfter?: number | undefined,
    now?: number,
    markerVersionId?: string,
  ): Promise<void> {
    // Retention (of a visible row): it becomes a noncurrent version, and a delete marker records the delete.
    if (purgeAfter !== undefined)
      await this.versions.archive(tx, [{ id: row.id, key: utf8(ref.key) }], ref, now ?? 0, purgeAfter, true, markerVersionId);
    await tx.run(DELETE_BY_ID, [row.id]);
    await this.ledger.charge(tx, ref.tenant, ref.type, -row.size, -1);
    if (row.blob_id && purgeAfter === undefined) await this.garbage.queue([row.blob_id], collectAfter, tx);
  }

  /**
   * Takes the key's lock, then its row (expired or not) for the rest of the transaction. The
   * advisory lock covers a key with no row yet: two creators cannot both see none.
   */
  private async lockRow(tx: Queries, ref: ObjectRef): Promise<PreviousRow | undefined> {
    await tx.run(LOCK_KEY, [this.lockKey(ref)]);
    const { rows } = await tx.run<PreviousRow>(FIND_FOR_UPDATE, keyParams(ref));
    return rows[0];
  }

  /** A 64-bit advisory lock key for (schema, tenant, type, key); a collision only serializes two keys. */
  private lockKey(ref: ObjectRef): string {
    const hash = createHash('sha256');
    for (const part of [this.schema, ref.tenant, ref.type]) hash.update(part, 'utf8').update('\0');
    return hash.update(ref.key, 'utf8').digest().readBigInt64BE(0).toString();
  }
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

type ValueColumns = Pick<ObjectColumns, 'sha256' | 'size' | 'content_type' | 'attributes' | 'expires_at'>;

/** Whether two rows hold the same value (bytes, type, attributes, expiry): a restore of one onto the other changes nothing. */
function sameValue(a: ValueColumns, b: ValueColumns): boolean {
  return (
    a.sha256 === b.sha256 &&
    Number(a.size) === Number(b.size) &&
    a.content_type === b.content_type &&
    a.attributes === b.attributes &&
    (a.expires_at === null ? null : Number(a.expires_at)) === (b.expires_at === null ? null : Number(b.expires_at))
  );
}

function keyParams(ref: ObjectRef): [string, string, Buffer] {
  return [ref.tenant, ref.type, Buffer.from(ref.key, 'utf8')];
}

/** Writes `row` as the current row of `ref` (inserted, or over the one there), with its version id and since when it is current. */
function upsertRow(
  tx: Queries,
  ref: ObjectRef,
  row: IndexRow,
  versionId: string | null | undefined,
  currentSince: number | null | undefined,
) {
  return tx.run(UPSERT, [
    ...keyParams(ref),
    row.size,
    row.sha256,
    row.contentType,
    row.lastModified,
    row.expiresAt,
    row.blobId,
    row.inline,
    serializeAttributes(row.attributes),
    versionId,
    currentSince,
  ]);
}
