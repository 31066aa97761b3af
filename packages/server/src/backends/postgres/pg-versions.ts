import type { ObjectRef } from '../backend.js';
import { countCap, countRulesOf, heldByRules, KEPT_NEWER_RECHECK_MS, type KeptNewer, type KeyVersionsBeside } from '../kept-newer.js';
import { KEY_SPACE_END } from '../key-range.js';
import type { AttributeFields, ObjectColumns } from '../object-columns.js';
import { newVersionId, rowFromColumns } from '../object-columns.js';
import { CURRENT_SEQ, type ListVersionsOptions, type VersionRow } from '../object-index.js';
import { type PgDb, type Queries, statement } from './pg-db.js';

const VALUE_COLUMNS = 'size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes';
const VERSION_COLUMNS = `tenant, type, key, version_id, ${VALUE_COLUMNS}, current_since, stopped_at, purge_after, delete_marker`;
const AS_VERSION = `tenant, type, key, COALESCE(version_id, 'null'), ${VALUE_COLUMNS}, COALESCE(current_since, last_modified)`;

// The current rows `ids` (locked by the caller) become versions that stopped being current at $2.
const ARCHIVE = statement(
  'version_archive',
  `INSERT INTO object_versions (${VERSION_COLUMNS})
   SELECT ${AS_VERSION}, $2::bigint, $3::bigint, false FROM objects WHERE id = ANY($1::bigint[]) ORDER BY key`,
);
const MARKERS = statement(
  'version_markers',
  `INSERT INTO object_versions (${VERSION_COLUMNS})
   SELECT $1, $2, k, v, 0, '', '', $5::bigint, NULL, NULL, NULL, NULL, $5::bigint, $5::bigint, $6::bigint, true
   FROM unnest($3::bytea[], $4::text[]) AS m(k, v)`,
);
const FIND = statement(
  'version_find',
  `SELECT id, ${VALUE_COLUMNS}, delete_marker FROM object_versions
   WHERE tenant = $1 AND type = $2 AND key = $3 AND version_id = $4 ORDER BY id DESC LIMIT 1 FOR UPDATE`,
);
// SKIP LOCKED: purgers on other servers take other rows; a version a restore holds is left to it.
const FIND_VALUE = statement(
  'version_find_value',
  `SELECT ${VALUE_COLUMNS} FROM objects
   WHERE tenant = $1 AND type = $2 AND key = $3 AND COALESCE(version_id, 'null') = $4 AND (expires_at IS NULL OR expires_at > $5)
   UNION ALL
   SELECT ${VALUE_COLUMNS} FROM object_versions
   WHERE tenant = $1 AND type = $2 AND key = $3 AND version_id = $4 AND NOT delete_marker
   LIMIT 1`,
);
const NEWEST = statement(
  'version_newest',
  `SELECT id, ${VALUE_COLUMNS}, version_id, current_since, delete_marker FROM object_versions
   WHERE tenant = $1 AND type = $2 AND key = $3 ORDER BY id DESC LIMIT 1 FOR UPDATE`,
);
const REMOVE_ID = statement('version_remove_id', 'DELETE FROM object_versions WHERE id = $1');
const REMOVE = statement(
  'version_remove',
  'DELETE FROM object_versions WHERE tenant = $1 AND type = $2 AND key = $3 AND version_id = $4 RETURNING blob_id, delete_marker',
);
const PURGE = statement(
  'version_purge',
  `DELETE FROM object_versions
   WHERE id IN (SELECT id FROM object_versions WHERE purge_after <= $1 ORDER BY purge_after LIMIT $2 FOR UPDATE SKIP LOCKED)
   RETURNING blob_id`,
);
// The next due versions, locked as PURGE locks them, for a purge that asks of each (kept-newer.ts).
const DUE = statement(
  'version_due',
  `SELECT id, tenant, type, key, stopped_at, delete_marker FROM object_versions
   WHERE purge_after <= $1 ORDER BY purge_after LIMIT $2 FOR UPDATE SKIP LOCKED`,
);
const REMOVE_DUE = statement('version_remove_due', 'DELETE FROM object_versions WHERE id = ANY($1::bigint[]) RETURNING blob_id');
const HOLD = statement('version_hold', 'UPDATE object_versions SET purge_after = $2 WHERE id = $1');
// Each part a seek of object_versions_by_key: newer versions counted no further than $5.
const BESIDE = statement(
  'version_beside',
  `SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM object_versions WHERE tenant = $1 AND type = $2 AND key = $3 AND id > $4 LIMIT $5) n)::int AS newer,
     EXISTS (SELECT 1 FROM objects WHERE tenant = $1 AND type = $2 AND key = $3) AS has_row,
     EXISTS (SELECT 1 FROM object_versions WHERE tenant = $1 AND type = $2 AND key = $3 AND id < $4) AS older,
     (SELECT delete_marker FROM object_versions WHERE tenant = $1 AND type = $2 AND key = $3 AND id > $4
      ORDER BY id DESC LIMIT 1) AS newest_marker`,
);
// ObjectIndex.expireLoneMarker: the key's only version, when a delete marker and no row has the key.
const EXPIRE_LONE_MARKER = statement(
  'version_expire_lone_marker',
  `UPDATE object_versions SET purge_after = $4 WHERE id = (
     SELECT id FROM object_versions WHERE tenant = $1 AND type = $2 AND key = $3 AND delete_marker
       AND NOT EXISTS (SELECT 1 FROM objects WHERE tenant = $1 AND type = $2 AND key = $3)
       AND (SELECT COUNT(*) FROM (SELECT 1 FROM object_versions WHERE tenant = $1 AND type = $2 AND key = $3 LIMIT 2) c) = 1
   ) AND purge_after > $4`,
);
const RETAINED = statement(
  'version_retained',
  `SELECT COALESCE(SUM(size), 0)::bigint AS bytes, COUNT(*)::bigint AS versions FROM object_versions
   WHERE tenant = $1 AND ($2::text IS NULL OR type = $2) AND NOT delete_marker`,
);
const LIST_SQL = (after: string) => `SELECT * FROM (
    SELECT key, version_id, ${VALUE_COLUMNS}, current_since AS since, stopped_at, purge_after, delete_marker, id AS seq
    FROM object_versions WHERE tenant = $1 AND type = $2 AND key >= $3 AND key < $4
    UNION ALL
    SELECT key, COALESCE(version_id, 'null'), ${VALUE_COLUMNS}, COALESCE(current_since, last_modified), NULL, NULL, false, ${CURRENT_SEQ}
    FROM objects WHERE tenant = $1 AND type = $2 AND key >= $3 AND key < $4 AND (expires_at IS NULL OR expires_at > $5)
  ) AS v ${after} ORDER BY key, seq DESC LIMIT $6`;
const LIST = statement('version_list', LIST_SQL(''));
const LIST_AFTER = statement('version_list_after', LIST_SQL('WHERE key > $7 OR (key = $7 AND seq < $8)'));

interface ListedRow extends ObjectColumns {
  key: Buffer;
  version_id: string;
  since: number;
  stopped_at: number | null;
  purge_after: number | null;
  delete_marker: boolean;
  seq: number;
}

export interface StoredVersion extends ObjectColumns {
  id: number;
  delete_marker: boolean;
}

/** A due version, as the purge reads it (bigints as pg gives them). */
interface DueRow {
  id: string;
  tenant: string;
  type: string;
  key: Buffer;
  stopped_at: string;
  delete_marker: boolean;
}

/** A noncurrent version with its id and since: one that may become the current row again. */
export interface NewestVersion extends StoredVersion {
  version_id: string;
  current_since: number;
}

/** The noncurrent versions of the PostgreSQL index; see SqliteVersions. Writes run in the caller's transaction. */
export class PgVersions {
  constructor(
    private readonly db: PgDb,
    private readonly attributes: AttributeFields,
  ) {}

  /** The locked current rows `ids` become versions, stopped at `now`; with `markers`, each key also gets a delete marker. */
  async archive(
    tx: Queries,
    rows: ReadonlyArray<{ id: number; key: Buffer }>,
    ref: { tenant: string; type: string },
    now: number,
    purgeAfter: number,
    markers: boolean,
    /** The marker's version id when there is one row (one is made otherwise). */
    markerVersionId?: string,
  ): Promise<void> {
    if (rows.length === 0) return;
    await tx.run(ARCHIVE, [rows.map((row) => row.id), now, purgeAfter]);
    const ids = rows.map(() => newVersionId(now));
    if (markerVersionId !== undefined && rows.length === 1) ids[0] = markerVersionId;
    if (markers) await tx.run(MARKERS, [ref.tenant, ref.type, rows.map((row) => row.key), ids, now, purgeAfter]);
  }

  async find(tx: Queries, ref: ObjectRef, versionId: string): Promise<StoredVersion | undefined> {
    const { rows } = await tx.run<StoredVersion>(FIND, [ref.tenant, ref.type, Buffer.from(ref.key, 'utf8'), versionId]);
    return rows[0];
  }

  /** The newest noncurrent version of a key (a value or a delete marker), locked in `tx`. */
  async newest(tx: Queries, ref: ObjectRef): Promise<NewestVersion | undefined> {
    const { rows } = await tx.run<NewestVersion>(NEWEST, [ref.tenant, ref.type, Buffer.from(ref.key, 'utf8')]);
    return rows[0];
  }

  /** Removes the version row `id` (one `newest` gave) inside `tx`. */
  async removeId(tx: Queries, id: number): Promise<void> {
    await tx.run(REMOVE_ID, [id]);
  }

  /** The value of a version, current or not (no delete marker). */
  async findValue(ref: ObjectRef, versionId: string, now: number): Promise<ObjectColumns | undefined> {
    const { rows } = await this.db.run<ObjectColumns>(FIND_VALUE, [ref.tenant, ref.type, Buffer.from(ref.key, 'utf8'), versionId, now]);
    return rows[0];
  }

  /** Removes a noncurrent version inside `tx`; what it was, and its blob. */
  async remove(tx: Queries, ref: ObjectRef, versionId: string): Promise<{ blob_id: string | null; delete_marker: boolean } | undefined> {
    const { rows } = await tx.run<{ blob_id: string | null; delete_marker: boolean }>(REMOVE, [
      ref.tenant,
      ref.type,
      Buffer.from(ref.key, 'utf8'),
      versionId,
    ]);
    return rows[0];
  }

  /**
   * Removes up to `limit` versions due at `now`; the blobs they named ('' for none). With
   * `keptNewer`, holds those kept by count and leaves those of schedules not resolved (as
   * SqliteVersions.purge). `settled`: how many were removed or held.
   */
  async purge(tx: Queries, now: number, limit: number, keptNewer?: KeptNewer): Promise<{ settled: number; blobIds: string[] }> {
    if (keptNewer === undefined) {
      const { rows } = await tx.run<{ blob_id: string | null }>(PURGE, [now, limit]);
      return { settled: rows.length, blobIds: rows.map((row) => row.blob_id ?? '') };
    }
    const { rows: due } = await tx.run<DueRow>(DUE, [now, limit]);
    const remove: string[] = [];
    let held = 0;
    for (const row of due) {
      const version = {
        tenant: row.tenant,
        type: row.type,
        key: row.key,
        stoppedAt: Number(row.stopped_at),
        deleteMarker: row.delete_marker,
      };
      const rules = countRulesOf(keptNewer, version);
      if (rules === 'wait') continue;
      if (rules !== undefined && heldByRules(rules, version, now, await this.beside(tx, row, countCap(rules)))) {
        await tx.run(HOLD, [row.id, now + KEPT_NEWER_RECHECK_MS]);
        held++;
      } else remove.push(row.id);
    }
    const { rows } = remove.length === 0 ? { rows: [] } : await tx.run<{ blob_id: string | null }>(REMOVE_DUE, [remove]);
    return { settled: held + rows.length, blobIds: rows.map((row) => row.blob_id ?? '') };
  }

  async expireLoneMarker(ref: ObjectRef, at: number): Promise<boolean> {
    const { rowCount } = await this.db.run(EXPIRE_LONE_MARKER, [ref.tenant, ref.type, Buffer.from(ref.key, 'utf8'), at]);
    return (rowCount ?? 0) > 0;
  }

  private async beside(tx: Queries, row: DueRow, cap: number): Promise<KeyVersionsBeside> {
    type Found = { newer: number; has_row: boolean; older: boolean; newest_marker: boolean | null };
    const { rows } = await tx.run<Found>(BESIDE, [row.tenant, row.type, row.key, row.id, cap]);
    const found = rows[0] as Found;
    return {
      newer: Number(found.newer),
      hasRow: found.has_row,
      keptInPlace: false,
      newestIsNewerMarker: found.newest_marker === true,
      older: found.older,
    };
  }

  async retained(tenant: string, type: string | undefined): Promise<{ bytes: number; versions: number }> {
    const { rows } = await this.db.run<{ bytes: number; versions: number }>(RETAINED, [tenant, type ?? null]);
    return { bytes: Number(rows[0]?.bytes ?? 0), versions: Number(rows[0]?.versions ?? 0) };
  }

  async list(options: ListVersionsOptions): Promise<VersionRow[]> {
    const base = [options.tenant, options.type, options.start, options.end ?? KEY_SPACE_END, options.now, options.limit];
    const { rows } = options.after
      ? await this.db.run<ListedRow>(LIST_AFTER, [...base, options.after.key, options.after.seq])
      : await this.db.run<ListedRow>(LIST, base);
    return rows.map((row) => {
      const current = row.stopped_at === null;
      const since = Number(row.since);
      return {
        key: row.key.toString('utf8'),
        versionId: row.version_id,
        row: { ...rowFromColumns({ ...row, inline_data: null }, this.attributes), versionId: row.version_id, currentSince: since },
        current,
        deleteMarker: row.delete_marker,
        since,
        stoppedAt: current ? undefined : Number(row.stopped_at),
        purgeAfter: row.purge_after === null ? undefined : Number(row.purge_after),
        seq: Number(row.seq),
      };
    });
  }
}
