import type { Statement } from 'better-sqlite3';
import type { ObjectRef } from '../backend.js';
import { countCap, countRulesOf, heldByRules, KEPT_NEWER_RECHECK_MS, type KeptNewer, type KeyVersionsBeside } from '../kept-newer.js';
import { KEY_SPACE_END } from '../key-range.js';
import { type AttributeFields, type ObjectColumns, rowFromColumns } from '../object-columns.js';
import { CURRENT_SEQ, type KeyRange, type ListVersionsOptions, type VersionRow } from '../object-index.js';
import type { CommitQueue } from './commit-queue.js';
import { ANY_UNFILED, FILING_STATEMENTS, type IndexDb, SOFT_DELETED, UNFILED } from './index-db.js';

const VALUE_COLUMNS = 'size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes';
const VERSION_COLUMNS = `tenant, type, key, version_id, ${VALUE_COLUMNS}, current_since, stopped_at, purge_after, delete_marker`;
const IN_RANGE = 'tenant = @tenant AND type = @type AND key >= @start AND key < @end';
const VISIBLE = '(expires_at IS NULL OR expires_at > @now)';
/** A current row as a version: its id ('null' before rows had one) and since (its Last-Modified then). */
const AS_VERSION = `tenant, type, key, COALESCE(version_id, 'null'), ${VALUE_COLUMNS}, COALESCE(current_since, last_modified)`;
/** A row deleted in place (SOFT_DELETED), as the version it was and as its delete marker: VERSION_COLUMNS but the first four. */
const KEPT_VALUE = `size, sha256, content_type, last_modified, deleted_expires_at, blob_id, inline_data, attributes,
  COALESCE(current_since, last_modified), deleted_at, deleted_purge, 0`;
const KEPT_MARKER = "0, '', '', deleted_at, NULL, NULL, NULL, NULL, deleted_at, deleted_at, deleted_purge, 1";
/** Where a listing puts a row deleted in place: after the key's current row (none), before its older versions. */
const KEPT_MARKER_SEQ = CURRENT_SEQ - 1;
const KEPT_VALUE_SEQ = CURRENT_SEQ - 2;
/** The rows deleted in place, all of them: few, as the sweeper settles them (by objects_by_expiry: their expires_at is 0). */
const ALL_KEPT = `expires_at = 0 AND ${SOFT_DELETED}`;
/**
 * The versions as `v`, each once: the filed ones of `keyed` (a condition on version_keys `k`)
 * through that order, and those not yet filed (at most a batch) by a scan of the table's tail
 * with `scanned` (the same condition on their own columns). One statement reads both in one
 * snapshot, so no reader waits for a filing. An entry is trusted only where it names its row.
 */
const versionsWhere = (keyed: string, scanned: string, columns: string) =>
  `SELECT ${columns} FROM version_keys k
     JOIN object_versions v ON v.id = k.id AND v.tenant = k.tenant AND v.type = k.type AND v.key = k.key WHERE ${keyed}
   UNION ALL
   SELECT ${columns} FROM object_versions v WHERE ${UNFILED} AND ${scanned}`;
const IN_RANGE_OF = (table: string) =>
  `${table}.tenant = @tenant AND ${table}.type = @type AND ${table}.key >= @start AND ${table}.key < @end`;
const OF_KEY = (table: string) => `${table}.tenant = @tenant AND ${table}.type = @type AND ${table}.key = @key`;
const OF_TYPE = (table: string) => `${table}.tenant = @tenant AND ${table}.type = @type`;
const OF_TENANT = (table: string) => `${table}.tenant = @tenant`;
/** The ids of the next `@limit` versions due at `@now`, filed or not, soonest first (an entry is trusted only where it names its row). */
const DUE_IDS = `SELECT id FROM (
    SELECT v.id, v.purge_after FROM version_purges p JOIN object_versions v ON v.id = p.id AND v.purge_after = p.purge_after
    WHERE p.purge_after <= @now
    UNION ALL
    SELECT id, purge_after FROM object_versions WHERE ${UNFILED} AND purge_after <= @now
  ) ORDER BY purge_after LIMIT @limit`;
/**
 * How many versions are written before they are filed into version_keys, in one commit of their
 * own: enough that a batch enters many versions of a key in one page of it, few enough that the
 * filing holds the event loop for milliseconds, not more.
 */
export const FILING_BATCH = 2048;

/** One row of a versions listing, as the statement gives it. */
interface ListedRow extends ObjectColumns {
  key: Buffer;
  version_id: string;
  since: number;
  stopped_at: number | null;
  purge_after: number | null;
  delete_marker: number;
  seq: number;
}

/** A noncurrent version with its id and since: one that may become the current row again. */
export interface NewestVersion extends StoredVersion {
  version_id: string;
  current_since: number;
}

/** A due version, as the purge reads it. */
interface DueRow {
  id: number;
  tenant: string;
  type: string;
  key: Buffer;
  stopped_at: number;
  delete_marker: number;
}

/** A noncurrent version, whole. */
export interface StoredVersion extends ObjectColumns {
  id: number;
  delete_marker: number;
}

/** What a delete in place sets (SOFT_DELETED); `markerId`: an SQL expression of the delete marker's version id. */
const deleteInPlace = (markerId: string) =>
  `deleted_at = @now, deleted_purge = @purge, deleted_marker = ${markerId}, deleted_expires_at = expires_at, expires_at = 0`;

/**
 * The noncurrent versions of the embedded index (`object_versions`): a replaced visible row is
 * copied there, in the transaction that replaces it, instead of its blob being queued. A deleted
 * one stays where it is, marked (SOFT_DELETED), and counts as a version and a delete marker until
 * it is settled into the table: by the sweeper, or by the next transaction that writes its key or
 * its versions. The table's key and purge orders are filed in batches (index-db.ts,
 * addVersionKeys), and read with the versions not yet filed. Every function runs inside the
 * caller's commit or is one statement.
 */
export class SqliteVersions {
  private readonly sql: Record<
    | 'archive'
    | 'softDelete'
    | 'softDeleteRange'
    | 'keptOfTenant'
    | 'keptOfType'
    | 'find'
    | 'findValue'
    | 'remove'
    | 'purge'
    | 'due'
    | 'removeDue'
    | 'hold'
    | 'beside'
    | 'lone'
    | 'retained'
    | 'retainedOfType'
    | 'list'
    | 'listAfter'
    | 'newest'
    | 'removeId'
    | 'removeOfType'
    | 'anyUnfiled',
    Statement
  >;
  /** A filing (FILING_STATEMENTS), prepared once. */
  private readonly filing: Statement[];
  /** Settling one row (`@id`), and every row kept in place. */
  private readonly settleOne: Settling;
  private readonly settleEvery: Settling;
  /** Versions written since the last filing, as this process counted them (when to file). */
  private written = 0;

  constructor(
    { db }: IndexDb,
    private readonly commits: CommitQueue,
    private readonly attributes: AttributeFields,
    /** Where writes' filings go instead of the next commit (the upkeep thread), if anywhere: false if it cannot take them. */
    private readonly fileElsewhere?: (() => boolean) | undefined,
  ) {
    const list = (after: string) =>
      db.prepare(
        `SELECT * FROM (
           ${versionsWhere(
             IN_RANGE_OF('k'),
             IN_RANGE_OF('v'),
             `v.key, version_id, ${VALUE_COLUMNS}, current_since AS since, stopped_at, purge_after, delete_marker, v.id AS seq`,
           )}
           UNION ALL
           SELECT key, COALESCE(version_id, 'null'), ${VALUE_COLUMNS}, COALESCE(current_since, last_modified), NULL, NULL, 0, ${CURRENT_SEQ}
           FROM objects WHERE ${IN_RANGE} AND ${VISIBLE}
           UNION ALL
           SELECT key, COALESCE(version_id, 'null'), ${KEPT_VALUE}, ${KEPT_VALUE_SEQ} FROM objects WHERE ${IN_RANGE} AND ${SOFT_DELETED}
           UNION ALL
           SELECT key, deleted_marker, ${KEPT_MARKER}, ${KEPT_MARKER_SEQ} FROM objects WHERE ${IN_RANGE} AND ${SOFT_DELETED}
         ) ${after} ORDER BY key, seq DESC LIMIT @limit`,
      );
    this.sql = {
      archive: db.prepare(
        `INSERT INTO object_versions (${VERSION_COLUMNS})
         SELECT ${AS_VERSION}, @stopped, @purge, 0 FROM objects WHERE id = @id`,
      ),
      softDelete: db.prepare(`UPDATE objects SET ${deleteInPlace('@marker')} WHERE id = @id`),
      // The visible rows of the range's next batch (the batch removeRange would take).
      softDeleteRange: db
        .prepare(
          `UPDATE objects SET ${deleteInPlace('@version_prefix || hex(randomblob(9))')}
           WHERE id IN (SELECT id FROM objects WHERE ${IN_RANGE} ORDER BY key LIMIT @limit) AND ${VISIBLE}
           RETURNING key, size`,
        )
        .raw(true),
      keptOfTenant: db.prepare(
        `SELECT COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS versions FROM objects WHERE ${ALL_KEPT} AND tenant = @tenant`,
      ),
      keptOfType: db.prepare(
        `SELECT COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS versions FROM objects WHERE ${ALL_KEPT} AND tenant = @tenant AND type = @type`,
      ),
      find: db.prepare(
        `SELECT id, ${VALUE_COLUMNS}, delete_marker FROM object_versions
         WHERE tenant = @tenant AND type = @type AND key = @key AND version_id = @version_id ORDER BY id DESC LIMIT 1`,
      ),
      findValue: db.prepare(
        `SELECT ${VALUE_COLUMNS} FROM objects
         WHERE tenant = @tenant AND type = @type AND key = @key AND COALESCE(version_id, 'null') = @version_id AND ${VISIBLE}
         UNION ALL
         SELECT ${VALUE_COLUMNS} FROM object_versions
         WHERE tenant = @tenant AND type = @type AND key = @key AND version_id = @version_id AND delete_marker = 0
         UNION ALL
         SELECT size, sha256, content_type, last_modified, deleted_expires_at, blob_id, inline_data, attributes FROM objects
         WHERE tenant = @tenant AND type = @type AND key = @key AND COALESCE(version_id, 'null') = @version_id AND ${SOFT_DELETED}
         LIMIT 1`,
      ),
      remove: db.prepare(
        `DELETE FROM object_versions WHERE tenant = @tenant AND type = @type AND key = @key AND version_id = @version_id
         RETURNING blob_id, delete_marker`,
      ),
      // Due versions, filed or not, soonest first; the DELETE checks each is due, whatever an entry says.
      purge: db.prepare(`DELETE FROM object_versions WHERE id IN (${DUE_IDS}) AND purge_after <= @now RETURNING blob_id`),
      due: db.prepare(`SELECT id, tenant, type, key, stopped_at, delete_marker FROM object_versions WHERE id IN (${DUE_IDS})`),
      removeDue: db
        .prepare('DELETE FROM object_versions WHERE id IN (SELECT value FROM json_each(@ids)) AND purge_after <= @now RETURNING blob_id')
        .pluck(),
      hold: db.prepare('UPDATE object_versions SET purge_after = @next WHERE id = @id'),
      // The key's only version, when it is a delete marker and no row of objects has the key.
      lone: db.prepare(
        `SELECT id, purge_after FROM (${versionsWhere(OF_KEY('k'), OF_KEY('v'), 'v.id, v.delete_marker, v.purge_after')})
         WHERE NOT EXISTS (SELECT 1 FROM objects WHERE ${OF_KEY('objects')})
           AND (SELECT COUNT(*) FROM (${versionsWhere(OF_KEY('k'), OF_KEY('v'), 'v.id')} LIMIT 2)) = 1
           AND delete_marker = 1`,
      ),
      // Each part a seek: newer versions counted no further than @cap, the newest found by the key orders' ends.
      beside: db.prepare(
        `SELECT (SELECT COUNT(*) FROM (
             ${versionsWhere(`${OF_KEY('k')} AND k.id > @id`, `${OF_KEY('v')} AND v.id > @id`, 'v.id')} LIMIT @cap)) AS newer,
           EXISTS (${versionsWhere(`${OF_KEY('k')} AND k.id < @id`, `${OF_KEY('v')} AND v.id < @id`, 'v.id')}) AS older,
           (SELECT COUNT(*) FROM objects WHERE ${OF_KEY('objects')}) AS rows,
           (SELECT COUNT(*) FROM objects WHERE ${OF_KEY('objects')} AND ${SOFT_DELETED}) AS kept,
           (SELECT delete_marker FROM object_versions WHERE id = (SELECT MAX(id) FROM (
              SELECT MAX(k.id) AS id FROM version_keys k WHERE ${OF_KEY('k')}
              UNION ALL SELECT MAX(v.id) FROM object_versions v WHERE ${UNFILED} AND ${OF_KEY('v')})) AND id > @id) AS newest_marker`,
      ),
      retained: db.prepare(
        `SELECT COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS versions
         FROM (${versionsWhere(OF_TENANT('k'), OF_TENANT('v'), 'v.size, v.delete_marker')}) WHERE delete_marker = 0`,
      ),
      retainedOfType: db.prepare(
        `SELECT COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS versions
         FROM (${versionsWhere(OF_TYPE('k'), OF_TYPE('v'), 'v.size, v.delete_marker')}) WHERE delete_marker = 0`,
      ),
      newest: db.prepare(
        `SELECT * FROM (${versionsWhere(OF_KEY('k'), OF_KEY('v'), `v.id, ${VALUE_COLUMNS}, version_id, current_since, delete_marker`)})
         ORDER BY id DESC LIMIT 1`,
      ),
      removeId: db.prepare('DELETE FROM object_versions WHERE id = ?'),
      removeOfType: db
        .prepare(
          `DELETE FROM object_versions WHERE id IN (SELECT v.id FROM (${versionsWhere(OF_TYPE('k'), OF_TYPE('v'), 'v.id')}) v)
           AND tenant = @tenant AND type = @type RETURNING blob_id`,
        )
        .pluck(),
      anyUnfiled: db.prepare(ANY_UNFILED).pluck(),
      list: list(''),
      listAfter: list('WHERE key > @after_key OR (key = @after_key AND seq < @after_seq)'),
    };
    this.filing = FILING_STATEMENTS.map((sql) => db.prepare(sql));
    this.settleOne = prepareSettling(db, `id = @id AND ${SOFT_DELETED}`);
    this.settleEvery = prepareSettling(db, ALL_KEPT);
  }

  /** Copies the current row `id` into the versions: it stopped being current at `stoppedAt`. */
  archive(id: number, stoppedAt: number, purgeAfter: number): void {
    this.sql.archive.run({ id, stopped: stoppedAt, purge: purgeAfter });
    this.wrote(1);
  }

  /**
   * Inside a commit: enters every version not yet filed into version_keys and version_purges.
   * Readers read those not yet filed beside them (versionsWhere); writes file every FILING_BATCH
   * versions, in a commit of their own, and the sweeper files what is left between its rounds.
   */
  fileAll(): void {
    this.written = 0;
    if (this.sql.anyUnfiled.get() === undefined) return;
    for (const statement of this.filing) statement.run();
  }

  /**
   * fileAll in the next commit, as an operation of its own: one that fails (a full disk) leaves
   * the mark where it was, for the next one, and fails nothing else of that commit.
   */
  fileSoon(): Promise<void> {
    return this.commits.enqueue(() => this.fileAll()).catch(() => {});
  }

  /** Counts `count` versions written; past FILING_BATCH, files them (on the upkeep thread, or in the next commit). */
  private wrote(count: number): void {
    this.written += count;
    if (this.written < FILING_BATCH) return;
    this.written = 0;
    if (!this.fileElsewhere?.()) void this.fileSoon();
  }

  /** Deletes the visible row `id` in place: it is a noncurrent version and a delete marker (`markerId`) from `now`. */
  softDelete(id: number, now: number, purgeAfter: number, markerId: string): void {
    this.sql.softDelete.run({ id, now, purge: purgeAfter, marker: markerId });
  }

  /** softDelete of the visible rows of the range's next batch; the keys and sizes it deleted. */
  softDeleteRange(range: KeyRange, limit: number, now: number, purgeAfter: number, versionPrefix: string): Array<[Buffer, number]> {
    const params = { tenant: range.tenant, type: range.type, start: range.start, end: range.end ?? KEY_SPACE_END, limit, now };
    return this.sql.softDeleteRange.all({ ...params, purge: purgeAfter, version_prefix: versionPrefix }) as Array<[Buffer, number]>;
  }

  /** Moves the row `id`, if deleted in place, into the versions table (its version, then its marker); whether it was. */
  settle(id: number): boolean {
    return this.settled(runSettling(this.settleOne, { id })) > 0;
  }

  /** settle of every row deleted in place; how many there were. */
  settleAll(): number {
    return this.settled(runSettling(this.settleEvery, {}));
  }

  /** `rows` kept in place were settled: two versions each (a value and its marker). */
  private settled(rows: number): number {
    if (rows > 0) this.wrote(2 * rows);
    return rows;
  }

  find(ref: ObjectRef, versionId: string): StoredVersion | undefined {
    return this.sql.find.get({ tenant: ref.tenant, type: ref.type, key: Buffer.from(ref.key, 'utf8'), version_id: versionId }) as
      | StoredVersion
      | undefined;
  }

  /** The value of a version, current or not (no delete marker). */
  findValue(ref: ObjectRef, versionId: string, now: number): ObjectColumns | undefined {
    return this.sql.findValue.get({ tenant: ref.tenant, type: ref.type, key: Buffer.from(ref.key, 'utf8'), version_id: versionId, now }) as
      | ObjectColumns
      | undefined;
  }

  /** Removes a noncurrent version; what it was, and its blob. */
  remove(ref: ObjectRef, versionId: string): { blob_id: string | null; delete_marker: number } | undefined {
    return this.sql.remove.get({ tenant: ref.tenant, type: ref.type, key: Buffer.from(ref.key, 'utf8'), version_id: versionId }) as
      | { blob_id: string | null; delete_marker: number }
      | undefined;
  }

  /** Inside a commit: the newest noncurrent version of a key (a value or a delete marker), whole. */
  newest(ref: ObjectRef): NewestVersion | undefined {
    return this.sql.newest.get({ tenant: ref.tenant, type: ref.type, key: Buffer.from(ref.key, 'utf8') }) as NewestVersion | undefined;
  }

  /** Removes the version row `id` (one `newest` gave). */
  removeId(id: number): void {
    this.sql.removeId.run(id);
  }

  /** Inside a commit: removes every version of a tenant's type (a bucket that goes); the blobs they named. */
  removeOfType(tenant: string, type: string): string[] {
    return (this.sql.removeOfType.all({ tenant, type }) as Array<string | null>).filter((id): id is string => id !== null);
  }

  /**
   * Inside a commit: removes up to `limit` versions due at `now`; the blobs they named. With
   * `keptNewer`, a due version among the newest its schedule keeps by count (NewerNoncurrentVersions)
   * is held until the next look instead, and one whose schedule is not resolved is left as it is.
   * `settled`: how many were removed or held.
   */
  purge(now: number, limit: number, keptNewer?: KeptNewer): { settled: number; blobIds: string[] } {
    if (keptNewer === undefined) {
      const rows = this.sql.purge.all({ now, limit }) as Array<{ blob_id: string | null }>;
      return { settled: rows.length, blobIds: rows.flatMap((row) => (row.blob_id ? [row.blob_id] : [])) };
    }
    const remove: number[] = [];
    let held = 0;
    for (const row of this.sql.due.all({ now, limit }) as DueRow[]) {
      const version = {
        tenant: row.tenant,
        type: row.type,
        key: row.key,
        stoppedAt: row.stopped_at,
        deleteMarker: row.delete_marker === 1,
      };
      const rules = countRulesOf(keptNewer, version);
      if (rules === 'wait') continue;
      if (rules !== undefined && heldByRules(rules, version, now, this.beside(row, countCap(rules)))) {
        this.sql.hold.run({ id: row.id, next: now + KEPT_NEWER_RECHECK_MS });
        held++;
      } else remove.push(row.id);
    }
    const blobIds = this.sql.removeDue.all({ ids: JSON.stringify(remove), now }) as Array<string | null>;
    return { settled: held + blobIds.length, blobIds: blobIds.filter((id): id is string => id !== null) };
  }

  /** Inside a commit: ObjectIndex.expireLoneMarker. */
  expireLoneMarker(ref: ObjectRef, at: number): boolean {
    const lone = this.sql.lone.get({ tenant: ref.tenant, type: ref.type, key: Buffer.from(ref.key, 'utf8') }) as
      | { id: number; purge_after: number }
      | undefined;
    if (lone === undefined || lone.purge_after <= at) return false;
    this.sql.hold.run({ id: lone.id, next: at });
    return true;
  }

  private beside(row: DueRow, cap: number): KeyVersionsBeside {
    const found = this.sql.beside.get({ tenant: row.tenant, type: row.type, key: row.key, id: row.id, cap }) as {
      newer: number;
      older: number;
      rows: number;
      kept: number;
      newest_marker: number | null;
    };
    return {
      newer: found.newer,
      hasRow: found.rows > 0,
      keptInPlace: found.kept > 0,
      newestIsNewerMarker: found.newest_marker === 1,
      older: found.older === 1,
    };
  }

  retained(tenant: string, type: string | undefined): { bytes: number; versions: number } {
    type Sums = { bytes: number; versions: number };
    const [table, kept] = (
      type === undefined
        ? [this.sql.retained.get({ tenant }), this.sql.keptOfTenant.get({ tenant })]
        : [this.sql.retainedOfType.get({ tenant, type }), this.sql.keptOfType.get({ tenant, type })]
    ) as [Sums, Sums];
    return { bytes: table.bytes + kept.bytes, versions: table.versions + kept.versions };
  }

  list(options: ListVersionsOptions): VersionRow[] {
    const params = {
      tenant: options.tenant,
      type: options.type,
      start: options.start,
      end: options.end ?? KEY_SPACE_END,
      now: options.now,
      limit: options.limit,
    };
    const rows = (
      options.after
        ? this.sql.listAfter.all({ ...params, after_key: options.after.key, after_seq: options.after.seq })
        : this.sql.list.all(params)
    ) as ListedRow[];
    return rows.map((row) => versionRowOf(row, this.attributes));
  }
}

/** The statements that move the rows kept in place that `where` selects into object_versions. */
interface Settling {
  readonly values: Statement;
  readonly markers: Statement;
  readonly rows: Statement;
}

function prepareSettling(db: IndexDb['db'], where: string): Settling {
  // Each row's version first, then its marker: the marker is the newer of the two.
  const insert = (columns: string) =>
    db.prepare(
      `INSERT INTO object_versions (${VERSION_COLUMNS}) SELECT tenant, type, key, ${columns} FROM objects WHERE ${where} ORDER BY id`,
    );
  return {
    values: insert(`COALESCE(version_id, 'null'), ${KEPT_VALUE}`),
    markers: insert(`deleted_marker, ${KEPT_MARKER}`),
    rows: db.prepare(`DELETE FROM objects WHERE ${where}`),
  };
}

/** Runs a settling; how many rows it moved. */
function runSettling(settling: Settling, params: Record<string, number>): number {
  settling.values.run(params);
  settling.markers.run(params);
  return settling.rows.run(params).changes;
}

export function versionRowOf(row: ListedRow, attributes: AttributeFields): VersionRow {
  const current = row.stopped_at === null;
  return {
    key: row.key.toString('utf8'),
    versionId: row.version_id,
    row: { ...rowFromColumns({ ...row, inline_data: null }, attributes), versionId: row.version_id, currentSince: Number(row.since) },
    current,
    deleteMarker: Boolean(row.delete_marker),
    since: Number(row.since),
    stoppedAt: current ? undefined : Number(row.stopped_at),
    purgeAfter: row.purge_after === null ? undefined : Number(row.purge_after),
    seq: Number(row.seq),
  };
}
