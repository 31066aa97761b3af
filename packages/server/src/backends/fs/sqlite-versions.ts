import type { Statement } from 'better-sqlite3';
import type { ObjectRef } from '../backend.js';
import { KEY_SPACE_END } from '../key-range.js';
import { type AttributeFields, type ObjectColumns, rowFromColumns } from '../object-columns.js';
import { CURRENT_SEQ, type KeyRange, type ListVersionsOptions, type VersionRow } from '../object-index.js';
import type { IndexDb } from './index-db.js';

const VALUE_COLUMNS = 'size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes';
const VERSION_COLUMNS = `tenant, type, key, version_id, ${VALUE_COLUMNS}, current_since, stopped_at, purge_after, delete_marker`;
const IN_RANGE = 'tenant = @tenant AND type = @type AND key >= @start AND key < @end';
const VISIBLE = '(expires_at IS NULL OR expires_at > @now)';
/** A current row as a version: its id ('null' before rows had one) and since (its Last-Modified then). */
const AS_VERSION = `tenant, type, key, COALESCE(version_id, 'null'), ${VALUE_COLUMNS}, COALESCE(current_since, last_modified)`;

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

/** A noncurrent version, whole. */
export interface StoredVersion extends ObjectColumns {
  id: number;
  delete_marker: number;
}

/**
 * The noncurrent versions of the embedded index (`object_versions`): a replaced or removed
 * visible row is copied there, in the transaction that replaces or removes it, instead of its
 * blob being queued; a delete adds a delete marker. Every function runs inside the caller's commit.
 */
export class SqliteVersions {
  private readonly sql: Record<
    | 'archive'
    | 'marker'
    | 'archiveRange'
    | 'markRange'
    | 'find'
    | 'findValue'
    | 'remove'
    | 'purge'
    | 'retained'
    | 'retainedOfType'
    | 'list'
    | 'listAfter'
    | 'newest'
    | 'removeId',
    Statement
  >;

  constructor(
    { db }: IndexDb,
    private readonly attributes: AttributeFields,
  ) {
    const list = (after: string) =>
      db.prepare(
        `SELECT * FROM (
           SELECT key, version_id, ${VALUE_COLUMNS}, current_since AS since, stopped_at, purge_after, delete_marker, id AS seq
           FROM object_versions WHERE ${IN_RANGE}
           UNION ALL
           SELECT key, COALESCE(version_id, 'null'), ${VALUE_COLUMNS}, COALESCE(current_since, last_modified), NULL, NULL, 0, ${CURRENT_SEQ}
           FROM objects WHERE ${IN_RANGE} AND ${VISIBLE}
         ) ${after} ORDER BY key, seq DESC LIMIT @limit`,
      );
    this.sql = {
      archive: db.prepare(
        `INSERT INTO object_versions (${VERSION_COLUMNS})
         SELECT ${AS_VERSION}, @stopped, @purge, 0 FROM objects WHERE id = @id`,
      ),
      marker: db.prepare(
        `INSERT INTO object_versions (${VERSION_COLUMNS})
         VALUES (@tenant, @type, @key, @version_id, 0, '', '', @now, NULL, NULL, NULL, NULL, @now, @now, @purge, 1)`,
      ),
      // The visible rows of removeRange's next batch (the same rows its DELETE takes, in the same commit).
      archiveRange: db.prepare(
        `INSERT INTO object_versions (${VERSION_COLUMNS})
         SELECT ${AS_VERSION}, @now, @purge, 0 FROM objects
         WHERE id IN (SELECT id FROM objects WHERE ${IN_RANGE} ORDER BY key LIMIT @limit) AND ${VISIBLE} ORDER BY key`,
      ),
      markRange: db.prepare(
        `INSERT INTO object_versions (${VERSION_COLUMNS})
         SELECT tenant, type, key, @version_prefix || hex(randomblob(9)), 0, '', '', @now, NULL, NULL, NULL, NULL, @now, @now, @purge, 1
         FROM objects WHERE id IN (SELECT id FROM objects WHERE ${IN_RANGE} ORDER BY key LIMIT @limit) AND ${VISIBLE} ORDER BY key`,
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
         LIMIT 1`,
      ),
      remove: db.prepare(
        `DELETE FROM object_versions WHERE tenant = @tenant AND type = @type AND key = @key AND version_id = @version_id
         RETURNING blob_id, delete_marker`,
      ),
      purge: db.prepare(
        `DELETE FROM object_versions WHERE id IN (SELECT id FROM object_versions WHERE purge_after <= @now ORDER BY purge_after LIMIT @limit)
         RETURNING blob_id`,
      ),
      retained: db.prepare(
        'SELECT COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS versions FROM object_versions WHERE tenant = @tenant AND delete_marker = 0',
      ),
      retainedOfType: db.prepare(
        `SELECT COALESCE(SUM(size), 0) AS bytes, COUNT(*) AS versions FROM object_versions
         WHERE tenant = @tenant AND type = @type AND delete_marker = 0`,
      ),
      newest: db.prepare(
        `SELECT id, ${VALUE_COLUMNS}, version_id, current_since, delete_marker FROM object_versions
         WHERE tenant = @tenant AND type = @type AND key = @key ORDER BY id DESC LIMIT 1`,
      ),
      removeId: db.prepare('DELETE FROM object_versions WHERE id = ?'),
      list: list(''),
      listAfter: list('WHERE key > @after_key OR (key = @after_key AND seq < @after_seq)'),
    };
  }

  /** Copies the current row `id` into the versions: it stopped being current at `stoppedAt`. */
  archive(id: number, stoppedAt: number, purgeAfter: number): void {
    this.sql.archive.run({ id, stopped: stoppedAt, purge: purgeAfter });
  }

  /** A delete marker of `ref` at `now`. */
  marker(ref: ObjectRef, now: number, purgeAfter: number, versionId: string): void {
    this.sql.marker.run({
      tenant: ref.tenant,
      type: ref.type,
      key: Buffer.from(ref.key, 'utf8'),
      version_id: versionId,
      now,
      purge: purgeAfter,
    });
  }

  /** Before removeRange's DELETE of the same batch: its visible rows become versions, each with a delete marker. */
  archiveRange(range: KeyRange, limit: number, now: number, purgeAfter: number, versionPrefix: string): void {
    const params = { tenant: range.tenant, type: range.type, start: range.start, end: range.end ?? KEY_SPACE_END, limit, now };
    this.sql.archiveRange.run({ ...params, purge: purgeAfter });
    this.sql.markRange.run({ ...params, purge: purgeAfter, version_prefix: versionPrefix });
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

  /** The newest noncurrent version of a key (a value or a delete marker), whole. */
  newest(ref: ObjectRef): NewestVersion | undefined {
    return this.sql.newest.get({ tenant: ref.tenant, type: ref.type, key: Buffer.from(ref.key, 'utf8') }) as NewestVersion | undefined;
  }

  /** Removes the version row `id` (one `newest` gave). */
  removeId(id: number): void {
    this.sql.removeId.run(id);
  }

  /** Removes up to `limit` versions due at `now`; the blobs they named. */
  purge(now: number, limit: number): { removed: number; blobIds: string[] } {
    const rows = this.sql.purge.all({ now, limit }) as Array<{ blob_id: string | null }>;
    return { removed: rows.length, blobIds: rows.flatMap((row) => (row.blob_id ? [row.blob_id] : [])) };
  }

  retained(tenant: string, type: string | undefined): { bytes: number; versions: number } {
    return (type === undefined ? this.sql.retained.get({ tenant }) : this.sql.retainedOfType.get({ tenant, type })) as {
      bytes: number;
      versions: number;
    };
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
