import { fail } from '../../errors.js';
import type { ObjectRef } from '../backend.js';
import { assertCondition, visibleEtag } from '../conditions.js';
import { KEY_SPACE_END, keyAfter } from '../key-range.js';
import {
  type AttributeFields,
  columnsFromRow,
  NULL_VERSION_ID,
  newVersionId,
  type ObjectColumns,
  rowFromColumns,
} from '../object-columns.js';
import {
  type IndexRow,
  infoOf,
  type KeyRange,
  type RangeStep,
  RELEASE_BATCH_ROWS,
  type RemoveRangeOptions,
  type ScannedKey,
  type ScanOptions,
  type TransferOptions,
  type TransferRangeOptions,
} from '../object-index.js';
import { destinationKey, transferredRow } from '../transfer-plan.js';
import { type PgDb, type Queries, statement } from './pg-db.js';
import type { PgGarbage } from './pg-garbage.js';
import type { PgLedger } from './pg-ledger.js';
import type { PgVersions } from './pg-versions.js';

const IN_RANGE = 'tenant = $1 AND type = $2 AND key >= $3 AND key < $4';
const VISIBLE = '(expires_at IS NULL OR expires_at > $5)';
const COLUMNS = 'size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes';

const SCAN_KEYS = statement('range_scan_keys', `SELECT key FROM objects WHERE ${IN_RANGE} AND ${VISIBLE} ORDER BY key LIMIT $6`);
const SCAN_DETAILS = statement(
  'range_scan_details',
  `SELECT key, size, sha256, content_type, last_modified, expires_at, NULL AS blob_id, NULL AS inline_data, attributes
   FROM objects WHERE ${IN_RANGE} AND ${VISIBLE} ORDER BY key LIMIT $6`,
);
const COUNT = statement(
  'range_count',
  `SELECT COUNT(*)::bigint AS objects, COALESCE(SUM(size), 0)::bigint AS bytes FROM objects WHERE ${IN_RANGE} AND ${VISIBLE}`,
);
// Row locks are enough to delete: a writer of one of these keys holds (or waits for) its row lock,
// and a write that commits first is what gets deleted, re-read once the lock is ours.
const REMOVE = statement(
  'range_remove',
  `DELETE FROM objects WHERE id IN (SELECT id FROM objects WHERE ${IN_RANGE} ORDER BY key LIMIT $5 FOR UPDATE)
   RETURNING key, size, blob_id, expires_at`,
);
// Retention: a batch's rows are locked first, the visible ones kept as versions, then exactly those rows deleted.
const LOCK_BATCH = statement(
  'range_lock_batch',
  `SELECT id, key, expires_at FROM objects WHERE ${IN_RANGE} ORDER BY key LIMIT $5 FOR UPDATE`,
);
const DELETE_IDS_RETURNING = statement(
  'range_delete_ids_returning',
  'DELETE FROM objects WHERE id = ANY($1::bigint[]) RETURNING key, size, blob_id, expires_at',
);
const SOURCE_ROWS = statement(
  'range_sources',
  `SELECT id, key, ${COLUMNS}, version_id FROM objects WHERE ${IN_RANGE} ORDER BY key LIMIT $5 FOR UPDATE`,
);
// The destinations' key locks, in one order for every caller (the array comes sorted), so two
// batches cannot deadlock on them; a single-key writer holds one key lock and so joins no cycle.
const LOCK_KEYS = statement('range_lock_keys', 'SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) AS k');
const DESTINATION_ROWS = statement(
  'range_destinations',
  'SELECT id, key, size, sha256, expires_at, blob_id FROM objects WHERE tenant = $1 AND type = $2 AND key = ANY($3::bytea[]) FOR UPDATE',
);
const DELETE_IDS = statement('range_delete_ids', 'DELETE FROM objects WHERE id = ANY($1::bigint[])');
const UPSERT_MANY = statement(
  'range_upsert_versioned',
  `INSERT INTO objects (tenant, type, key, size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes,
     version_id, current_since)
   SELECT $1, $2, *, $13::bigint FROM unnest($3::bytea[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::text[],
     $10::bytea[], $11::text[], $12::text[])
   ON CONFLICT (tenant, type, key) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256,
     content_type = excluded.content_type, last_modified = excluded.last_modified, expires_at = excluded.expires_at,
     blob_id = excluded.blob_id, inline_data = excluded.inline_data, attributes = excluded.attributes,
     version_id = excluded.version_id, current_since = excluded.current_since`,
);

interface SourceRow extends ObjectColumns {
  id: number;
  key: Buffer;
}

interface DestinationRow {
  id: number;
  key: Buffer;
  size: number;
  sha256: string;
  expires_at: number | null;
  blob_id: string | null;
}

/** A row to write at a destination, and what it replaces. */
interface PlannedWrite {
  readonly key: Buffer;
  readonly row: IndexRow;
  readonly previous: DestinationRow | undefined;
}

/**
 * The operations on key ranges and on several keys at once, for PgIndex: scans, counts, range
 * deletes, and copies and moves of one key or a batch of a range. Each batch is one transaction
 * of a few set-based statements, whatever its number of rows.
 */
export class PgRanges {
  constructor(
    private readonly db: PgDb,
    private readonly ledger: PgLedger,
    private readonly garbage: PgGarbage,
    private readonly versions: PgVersions,
    private readonly lockKey: (ref: ObjectRef) => string,
    private readonly attributes: AttributeFields,
  ) {}

  async scan(options: ScanOptions): Promise<ScannedKey[]> {
    const values = [...rangeValues(options), options.now, options.limit];
    if (!options.details) {
      const { rows } = await this.db.run<{ key: Buffer }>(SCAN_KEYS, values);
      return rows.map((row) => ({ key: row.key.toString('utf8'), row: undefined }));
    }
    const { rows } = await this.db.run<ObjectColumns & { key: Buffer }>(SCAN_DETAILS, values);
    return rows.map((row) => ({ key: row.key.toString('utf8'), row: rowFromColumns(row, this.attributes) }));
  }

  async count(options: KeyRange & { now: number }): Promise<{ objects: number; bytes: number }> {
    const { rows } = await this.db.run<{ objects: number; bytes: number }>(COUNT, [...rangeValues(options), options.now]);
    return rows[0] ?? { objects: 0, bytes: 0 };
  }

  async remove(options: RemoveRangeOptions): Promise<RangeStep> {
    return this.db.transaction((tx) => this.removeIn(tx, options));
  }

  /** remove's work, inside the caller's transaction `tx`. */
  async removeIn(tx: Queries, options: RemoveRangeOptions): Promise<RangeStep> {
    const { rows, step } = await this.deleteBatch(tx, options);
    await this.ledger.charge(tx, options.tenant, options.type, -sum(rows), -rows.length);
    return step;
  }

  /**
   * Removes every row of a range inside `tx`, queueing their blobs, and gives what they held
   * without charging the ledger: the caller charges once, after the last row lock (a put that
   * releases a range), so its locks are always taken rows first, usage row last.
   */
  async releaseIn(tx: Queries, range: KeyRange, now: number, collectAfter: number): Promise<{ bytes: number; objects: number }> {
    let bytes = 0;
    let objects = 0;
    for (let start: Buffer | undefined = range.start; start; ) {
      const { rows, step } = await this.deleteBatch(tx, { ...range, start, limit: RELEASE_BATCH_ROWS, now, collectAfter });
      bytes += sum(rows);
      objects += rows.length;
      start = step.next;
    }
    return { bytes, objects };
  }

  private async deleteBatch(tx: Queries, options: RemoveRangeOptions) {
    type Removed = { key: Buffer; size: number; blob_id: string | null; expires_at: number | null };
    const isVisible = (row: { expires_at: number | null }) => row.expires_at === null || row.expires_at > options.now;
    let rows: Removed[];
    const retain = options.purgeAfter;
    if (retain === undefined) rows = (await tx.run<Removed>(REMOVE, [...rangeValues(options), options.limit])).rows;
    else {
      const locked = (
        await tx.run<{ id: number; key: Buffer; expires_at: number | null }>(LOCK_BATCH, [...rangeValues(options), options.limit])
      ).rows;
      await this.versions.archive(tx, locked.filter(isVisible), options, options.now, retain, true);
      rows = (await tx.run<Removed>(DELETE_IDS_RETURNING, [locked.map((row) => row.id)])).rows;
    }
    const visible = rows.filter(isVisible);
    await this.garbage.queue(
      (retain === undefined ? rows : rows.filter((row) => !isVisible(row))).flatMap((row) => (row.blob_id ? [row.blob_id] : [])),
      options.collectAfter,
      tx,
    );
    const last = rows.reduce<Buffer | undefined>((max, row) => (!max || Buffer.compare(row.key, max) > 0 ? row.key : max), undefined);
    const step: RangeStep = {
      objects: visible.length,
      bytes: sum(visible),
      skipped: [],
      next: rows.length < options.limit || !last ? undefined : keyAfter(last),
    };
    return { rows, step };
  }

  async transfer(options: TransferOptions): Promise<IndexRow> {
    const { from, to } = options;
    return this.db.transaction(async (tx) => {
      const [first, second] = [this.lockKey(from), this.lockKey(to)].sort(compareLockKeys);
      await tx.run(LOCK_KEYS, [[first, second]]);
      const { rows } = await tx.run<SourceRow>(SOURCE_ROWS, [from.tenant, from.type, utf8(from.key), keyAfter(utf8(from.key)), 1]);
      const source = options.fromVersionId === undefined ? rows[0] : await this.versionSource(tx, rows[0], options.fromVersionId, options);
      const sourceEtag = visibleEtag(source && { sha256: source.sha256, expiresAt: source.expires_at }, options.now);
      if (!source || sourceEtag === undefined) throw fail('NoSuchKey', `No object at ${from.type}/${from.key}`);
      assertCondition(sourceEtag, options.condition);
      // The source row is locked (FOR UPDATE): what the check sees is what is copied.
      options.checkSource?.(infoOf(rowFromColumns(source, this.attributes)));
      const expiresAtIfNone = () => options.expiresAtIfNone;
      const written = await this.transferRows(
        tx,
        [source],
        { ...options, expiresAtIfNone, tenant: from.tenant, fromType: from.type },
        () => ({
          tenant: to.tenant,
          type: to.type,
          key: utf8(to.key),
        }),
      );
      const row = written[0];
      if (!row) throw fail('DestinationExists', `An object exists at ${to.type}/${to.key}`);
      return row;
    });
  }

  /**
   * Inside `tx`, the key's lock and its current row (`current`, locked) held: version `versionId`
   * of the source as a copy's source, the current row or a kept version (locked, so a purge skips it).
   */
  private async versionSource(
    tx: Queries,
    current: SourceRow | undefined,
    versionId: string,
    options: TransferOptions,
  ): Promise<SourceRow> {
    const { from, now } = options;
    if (options.move) throw new Error('a move takes the current row, not a version');
    const visible = current && (current.expires_at === null || Number(current.expires_at) > now);
    if (current && visible && (current.version_id ?? NULL_VERSION_ID) === versionId) return current;
    const version = await this.versions.find(tx, from, versionId);
    if (!version || version.delete_marker) throw fail('NoSuchVersion', `No version ${versionId} of ${from.type}/${from.key}`);
    // A kept version is a value that exists; the copy keeps its expiry unless that already passed.
    const expiresAt = version.expires_at !== null && Number(version.expires_at) > now ? version.expires_at : null;
    return { ...version, expires_at: expiresAt, key: utf8(from.key) };
  }

  async transferRange(options: TransferRangeOptions): Promise<RangeStep> {
    const fromPrefix = utf8(options.fromPrefix);
    const toPrefix = utf8(options.toPrefix);
    const { tenant, type } = options.range;
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.run<SourceRow>(SOURCE_ROWS, [...rangeValues(options.range), options.limit]);
      const live = rows.filter((row) => row.expires_at === null || row.expires_at > options.now);
      const skipped: string[] = [];
      const targets = new Map<SourceRow, Buffer>();
      for (const row of live) {
        const target = destinationKey(row.key, fromPrefix, toPrefix);
        if (target) targets.set(row, target);
        else skipped.push(row.key.toString('utf8'));
      }
      const sources = live.filter((row) => targets.has(row));
      await tx.run(LOCK_KEYS, [
        sources
          .map((row) => this.lockKey({ tenant, type: options.toType, key: (targets.get(row) as Buffer).toString('utf8') }))
          .sort(compareLockKeys),
      ]);
      const written = await this.transferRows(tx, sources, { ...options, tenant, fromType: type }, (row) => ({
        tenant,
        type: options.toType,
        key: targets.get(row) as Buffer,
      }));
      let objects = 0;
      let bytes = 0;
      sources.forEach((row, i) => {
        if (written[i]) {
          objects++;
          bytes += row.size;
        } else skipped.push(row.key.toString('utf8'));
      });
      const last = rows.at(-1);
      return { objects, bytes, skipped, next: rows.length < options.limit || !last ? undefined : keyAfter(last.key) };
    });
  }

  /**
   * Inside `tx`, with the destinations' key locks held: writes each source's value at its
   * destination (all of one tenant and type, which may be another tenant's than the sources': a
   * copy out of a bucket shared with the caller), removing the sources for a move. Returns the row
   * written per source, undefined where a visible destination exists and `overwrite` is not set.
   */
  private async transferRows(
    tx: Queries,
    sources: SourceRow[],
    options: Pick<
      TransferOptions,
      'move' | 'overwrite' | 'now' | 'lastModified' | 'expiresAt' | 'collectAfter' | 'replace' | 'purgeAfter' | 'sourcePurgeAfter'
    > & {
      tenant: string;
      fromType: string;
      /** The destination's expiry when the source has none, by the destination's key. */
      expiresAtIfNone: (destinationKey: string) => number | null;
    },
    destinationOf: (row: SourceRow) => { tenant: string; type: string; key: Buffer },
  ): Promise<Array<IndexRow | undefined>> {
    if (sources.length === 0) return [];
    const { tenant: toTenant, type: toType } = destinationOf(sources[0] as SourceRow);
    const { rows: existing } = await tx.run<DestinationRow>(DESTINATION_ROWS, [
      toTenant,
      toType,
      sources.map((row) => destinationOf(row).key),
    ]);
    const previousOf = new Map(existing.map((row) => [row.key.toString('hex'), row]));
    const plans: Array<PlannedWrite | undefined> = sources.map((source) => {
      const key = destinationOf(source).key;
      const previous = previousOf.get(key.toString('hex'));
      const exists = visibleEtag(previous && { sha256: previous.sha256, expiresAt: previous.expires_at }, options.now) !== undefined;
      if (exists && !options.overwrite) return undefined;
      const expiresAtIfNone = options.expiresAtIfNone(key.toString('utf8'));
      const {
        versionId: _from,
        currentSince: _since,
        ...value
      } = transferredRow(rowFromColumns(source, this.attributes), {
        ...options,
        expiresAtIfNone,
      });
      return { key, row: { ...value, versionId: newVersionId(options.now) }, previous };
    });
    const writes = plans.filter((plan): plan is PlannedWrite => plan !== undefined);
    if (writes.length === 0) return plans.map(() => undefined);
    const moved = sources.filter((_, i) => plans[i] !== undefined);
    // Retention: a move's sources, and the visible rows the writes replace, become versions.
    if (options.move && options.sourcePurgeAfter !== undefined)
      await this.versions.archive(
        tx,
        moved,
        { tenant: options.tenant, type: options.fromType },
        options.now,
        options.sourcePurgeAfter,
        true,
      );
    const kept = (plan: PlannedWrite) =>
      options.purgeAfter !== undefined &&
      plan.previous !== undefined &&
      visibleEtag({ sha256: plan.previous.sha256, expiresAt: plan.previous.expires_at }, options.now) !== undefined;
    if (options.purgeAfter !== undefined)
      await this.versions.archive(
        tx,
        writes.filter(kept).map((plan) => plan.previous as DestinationRow),
        { tenant: toTenant, type: toType },
        options.now,
        options.purgeAfter,
        false,
      );
    if (options.move) await tx.run(DELETE_IDS, [moved.map((row) => row.id)]);
    const added = writes.reduce((total, plan) => total + plan.row.size - (plan.previous?.size ?? 0), 0);
    const newObjects = writes.filter((plan) => !plan.previous).length;
    // The tenant pays the net change; the source's and the destination's buckets each their side.
    // Between two tenants each pays its side, the tenants' rows taken in one order (no deadlock).
    const removed = options.move ? [{ tenant: options.tenant, type: options.fromType, bytes: -sum(moved), objects: -moved.length }] : [];
    const changes = [...removed, { tenant: toTenant, type: toType, bytes: added, objects: newObjects, stores: true }];
    for (const tenant of [...new Set(changes.map((change) => change.tenant))].sort())
      await this.ledger.chargeAll(
        tx,
        tenant,
        changes.filter((change) => change.tenant === tenant),
      );
    const columns = writes.map((plan) => columnsFromRow(plan.row));
    await tx.run(UPSERT_MANY, [
      toTenant,
      toType,
      writes.map((plan) => plan.key),
      columns.map((c) => c.size),
      columns.map((c) => c.sha256),
      columns.map((c) => c.content_type),
      columns.map((c) => c.last_modified),
      columns.map((c) => c.expires_at),
      columns.map((c) => c.blob_id),
      columns.map((c) => c.inline_data),
      columns.map((c) => c.attributes),
      writes.map((plan) => plan.row.versionId),
      options.now,
    ]);
    const replaced = writes.flatMap((plan) =>
      !kept(plan) && plan.previous?.blob_id && plan.previous.blob_id !== plan.row.blobId ? [plan.previous.blob_id] : [],
    );
    await this.garbage.queue(replaced, options.collectAfter, tx);
    return plans.map((plan) => plan?.row);
  }
}

function rangeValues(range: KeyRange): [string, string, Buffer, Buffer] {
  return [range.tenant, range.type, range.start, range.end ?? KEY_SPACE_END];
}

function sum(rows: ReadonlyArray<{ size: number }>): number {
  return rows.reduce((total, row) => total + row.size, 0);
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

function compareLockKeys(a: string, b: string): number {
  const [x, y] = [BigInt(a), BigInt(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}
