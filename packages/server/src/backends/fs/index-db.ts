import Sqlite, { type Database, type Statement } from 'better-sqlite3';
import type { Durability } from '../../config.js';
import { BLOB_REFERENCES, type BlobReference, blobNamedQuery, SQLITE_BLOB_IN_USE } from '../blob-references.js';
import { usageOfRows } from '../derived-counters.js';
import type { ObjectColumns } from '../object-columns.js';
import { GC_HOLDS_SCHEMA } from './gc-holds.js';

/** An api_keys row as ApiKeyRow names its fields. */
const API_KEY_FIELDS =
  'client_id AS clientId, tenant, secret_hash AS secretHash, secret_sealed AS sealedSecret, created_at AS createdAt, name, scope, revoked_at AS revokedAt';

/** One row of the object index. `key` is stored as UTF-8 bytes so ordering is by byte. */
export type ObjectRow = ObjectColumns;

/**
 * What `findVisible` returns: the columns of ObjectRow in this order, as an array. The read path's
 * lookup runs once per GET and HEAD: an array costs a fraction of a row object, whose column
 * names better-sqlite3 would intern and whose shape V8 would rebuild on every call.
 */
export type VisibleRowTuple = [
  size: number,
  sha256: string,
  content_type: string,
  last_modified: number,
  expires_at: number | null,
  blob_id: string | null,
  inline_data: Buffer | null,
  attributes: string | null,
  version_id: string | null,
];

/** `usageRead`: stored bytes, objects, bytes held by open uploads, whether the tenant has its own quota, that quota. */
export type UsageTuple = [bytes: number | null, objects: number | null, pending: number, ownQuota: 0 | 1, quotaBytes: number | null];
/** `quotaRoom`: stored bytes, whether the tenant has its own quota, that quota. */
export type QuotaRoomTuple = [bytes: number | null, ownQuota: 0 | 1, quotaBytes: number | null];

/** What `findAny` returns: the row whether or not it expired. */
export interface AnyObjectRow {
  id: number;
  size: number;
  blob_id: string | null;
  expires_at: number | null;
  sha256: string;
  /** Set on a row deleted under retention and not yet settled into versions (`SOFT_DELETED`). */
  deleted_purge: number | null;
}

/** The ETag a precondition compares against: undefined when there is no row or it expired. */
export function visibleEtag(row: AnyObjectRow | undefined, now: number): string | undefined {
  return row && (row.expires_at === null || row.expires_at > now) ? `"${row.sha256}"` : undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  type TEXT NOT NULL,
  key BLOB NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  content_type TEXT NOT NULL,
  last_modified INTEGER NOT NULL,
  expires_at INTEGER,
  blob_id TEXT,
  inline_data BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_key ON objects (tenant, type, key);
CREATE INDEX IF NOT EXISTS objects_by_expiry ON objects (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS objects_by_blob ON objects (blob_id) WHERE blob_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS uploads (
  upload_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  type TEXT NOT NULL,
  key BLOB NOT NULL,
  content_type TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  object_expires_at INTEGER,
  received INTEGER NOT NULL DEFAULT 0,
  total INTEGER,
  completed_json TEXT
);
CREATE TABLE IF NOT EXISTS tenants (
  tenant TEXT PRIMARY KEY,
  quota_bytes INTEGER
);
CREATE TABLE IF NOT EXISTS api_keys (
  client_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bucket_settings (
  tenant TEXT NOT NULL,
  type TEXT NOT NULL,
  cors TEXT,
  PRIMARY KEY (tenant, type)
);
CREATE TABLE IF NOT EXISTS buckets (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  quota_bytes INTEGER,
  settings TEXT NOT NULL,
  bytes INTEGER NOT NULL DEFAULT 0,
  objects INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS buckets_by_owner ON buckets (owner, name);
CREATE TABLE IF NOT EXISTS bucket_grantees (
  bucket TEXT NOT NULL,
  grantee TEXT NOT NULL,
  PRIMARY KEY (bucket, grantee)
);
CREATE INDEX IF NOT EXISTS bucket_grantees_by_grantee ON bucket_grantees (grantee, bucket);
`;

/** The open database and its prepared statements. */
export interface IndexDb {
  readonly db: Database;
  readonly statements: {
    readonly findVisible: Statement<[tenant: string, type: string, key: Buffer, now: number], VisibleRowTuple>;
    readonly findAny: Statement;
    readonly findUpload: Statement<[string]>;
    readonly insertUpload: Statement;
    readonly updateUpload: Statement;
    readonly completeUpload: Statement;
    readonly deleteUpload: Statement<[string]>;
    readonly expiredUploads: Statement<[number]>;
    readonly openUploadIds: Statement<[]>;
    readonly cancelUpload: Statement<[string]>;
    readonly upsert: Statement;
    readonly deleteById: Statement<[number]>;
    readonly listRange: Statement;
    readonly listFrom: Statement;
    readonly expired: Statement<[number, number]>;
    readonly deleteExpired: Statement<[number, number]>;
    readonly blobInUse: Statement<[string]>;
    readonly insertApiKey: Statement;
    readonly findApiKey: Statement<[string]>;
    readonly listApiKeys: Statement<[string]>;
    readonly revokeApiKey: Statement<[number, string, string]>;
    readonly usageRead: Statement<[{ tenant: string }], UsageTuple>;
    readonly quotaRoom: Statement<[{ tenant: string }], QuotaRoomTuple>;
    readonly addUsage: Statement;
    readonly tenantQuota: Statement<[string]>;
    readonly setTenantQuota: Statement;
    readonly clearTenantQuota: Statement<[string]>;
    readonly ping: Statement;
  };
}

const VISIBLE = '(expires_at IS NULL OR expires_at > @now)';

/**
 * Whether a row names the blob: a current row or a noncurrent version (retention). The one
 * statement of what references a blob, for the collector, the orphan sweep and fsck.
 */
/**
 * The statement saying whether a row names a blob (BLOB_REFERENCES), for a database opened as it
 * is (fsck): a data directory made before a table existed is asked of the tables it has.
 */
export function blobReferenced(db: Database): Statement<[string]> {
  const present = presentBlobReferences(db);
  return db.prepare<[string]>(`SELECT 1 FROM (SELECT ? AS blob) AS probe WHERE EXISTS (${blobNamedQuery('probe.blob', present)})`).pluck();
}

/** The BLOB_REFERENCES whose tables a database has (one an older version made, or its backup, lacks the newer ones). */
export function presentBlobReferences(db: Database): BlobReference[] {
  const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
  return BLOB_REFERENCES.filter((reference) => tables.has(reference.table));
}

/** Opens the index database (WAL) and prepares every statement once. */
export function openIndexDb(file: string, durability: Durability): IndexDb {
  const db: Database = new Sqlite(file);
  db.pragma('journal_mode = WAL');
  // FULL fsyncs the WAL on every commit (survives power loss); NORMAL survives a process crash.
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  addSoftDeletes(db);
  ensureUsageTable(db);
  addCancelledColumn(db);
  addSharedUploadState(db);
  addAttributesColumn(db);
  db.exec(GC_HOLDS_SCHEMA);
  addVersions(db);
  db.exec(MANIFESTS_SCHEMA);

  const statements = {
    findVisible: db
      .prepare<[string, string, Buffer, number], VisibleRowTuple>(
        `SELECT size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes, version_id
         FROM objects WHERE tenant = ? AND type = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`,
      )
      .raw(true),
    findAny: db.prepare(
      'SELECT id, size, blob_id, expires_at, sha256, deleted_purge FROM objects WHERE tenant = @tenant AND type = @type AND key = @key',
    ),
    findUpload: db.prepare<[string]>('SELECT * FROM uploads WHERE upload_id = ?'),
    insertUpload: db.prepare(
      `INSERT INTO uploads (upload_id, tenant, type, key, content_type, expires_at, object_expires_at)
       VALUES (@upload_id, @tenant, @type, @key, @content_type, @expires_at, @object_expires_at) ON CONFLICT DO NOTHING`,
    ),
    updateUpload: db.prepare('UPDATE uploads SET received = @received, total = @total WHERE upload_id = @upload_id'),
    completeUpload: db.prepare('UPDATE uploads SET completed_json = @completed_json WHERE upload_id = @upload_id'),
    deleteUpload: db.prepare<[string]>('DELETE FROM uploads WHERE upload_id = ?'),
    expiredUploads: db.prepare<[number]>('SELECT upload_id FROM uploads WHERE expires_at <= ? LIMIT 1000'),
    openUploadIds: db.prepare<[]>('SELECT upload_id FROM uploads WHERE completed_json IS NULL AND cancelled = 0').pluck(),
    cancelUpload: db.prepare<[string]>('UPDATE uploads SET cancelled = 1, received = 0, total = NULL WHERE upload_id = ?'),
    upsert: db.prepare(
      `INSERT INTO objects (tenant, type, key, size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes,
         version_id, current_since)
       VALUES (@tenant, @type, @key, @size, @sha256, @content_type, @last_modified, @expires_at, @blob_id, @inline_data, @attributes,
         @version_id, @current_since)
       ON CONFLICT (tenant, type, key) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256,
         content_type = excluded.content_type, last_modified = excluded.last_modified,
         expires_at = excluded.expires_at, blob_id = excluded.blob_id, inline_data = excluded.inline_data,
         attributes = excluded.attributes, version_id = excluded.version_id, current_since = excluded.current_since,
         deleted_at = NULL, deleted_purge = NULL, deleted_marker = NULL, deleted_expires_at = NULL`,
    ),
    deleteById: db.prepare<[number]>('DELETE FROM objects WHERE id = ?'),
    listRange: db.prepare(
      `SELECT key FROM objects WHERE tenant = @tenant AND type = @type AND key >= @start AND key < @end AND ${VISIBLE}
       ORDER BY key LIMIT @limit`,
    ),
    listFrom: db.prepare(
      `SELECT key FROM objects WHERE tenant = @tenant AND type = @type AND key >= @start AND ${VISIBLE}
       ORDER BY key LIMIT @limit`,
    ),
    // Rows deleted under retention come first (expires_at 0): the sweeper settles them into versions.
    expired: db.prepare<[number, number]>(
      `SELECT id, ${SOFT_DELETED} AS soft FROM objects WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`,
    ),
    deleteExpired: db.prepare<[number, number]>(
      `DELETE FROM objects WHERE id = ? AND expires_at <= ? AND NOT ${SOFT_DELETED} RETURNING tenant, type, key, size, blob_id`,
    ),
    blobInUse: db.prepare<[string]>(SQLITE_BLOB_IN_USE).pluck(),
    insertApiKey: db.prepare(
      `INSERT INTO api_keys (client_id, tenant, secret_hash, secret_sealed, created_at, name, scope)
       VALUES (@clientId, @tenant, @secretHash, @sealedSecret, @createdAt, @name, @scope)`,
    ),
    findApiKey: db.prepare<[string]>(`SELECT ${API_KEY_FIELDS} FROM api_keys WHERE client_id = ?`),
    listApiKeys: db.prepare<[string]>(`SELECT ${API_KEY_FIELDS} FROM api_keys WHERE tenant = ? ORDER BY created_at, client_id`),
    revokeApiKey: db.prepare<[number, string, string]>(
      'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant = ? AND client_id = ? RETURNING revoked_at',
    ),
    // One statement where three would each be a read transaction: both run on every write.
    usageRead: db
      .prepare<[{ tenant: string }], UsageTuple>(
        `SELECT (SELECT bytes FROM usage WHERE tenant = @tenant), (SELECT objects FROM usage WHERE tenant = @tenant),
           (SELECT COALESCE(SUM(received), 0) FROM uploads WHERE tenant = @tenant AND completed_json IS NULL AND cancelled = 0),
           EXISTS (SELECT 1 FROM tenants WHERE tenant = @tenant), (SELECT quota_bytes FROM tenants WHERE tenant = @tenant)`,
      )
      .raw(true),
    quotaRoom: db
      .prepare<[{ tenant: string }], QuotaRoomTuple>(
        `SELECT (SELECT bytes FROM usage WHERE tenant = @tenant),
           EXISTS (SELECT 1 FROM tenants WHERE tenant = @tenant), (SELECT quota_bytes FROM tenants WHERE tenant = @tenant)`,
      )
      .raw(true),
    addUsage: db.prepare(
      `INSERT INTO usage (tenant, bytes, objects) VALUES (@tenant, @bytes, @objects)
       ON CONFLICT (tenant) DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects`,
    ),
    tenantQuota: db.prepare<[string]>('SELECT quota_bytes AS quotaBytes FROM tenants WHERE tenant = ?'),
    setTenantQuota: db.prepare(
      `INSERT INTO tenants (tenant, quota_bytes) VALUES (@tenant, @quotaBytes)
       ON CONFLICT (tenant) DO UPDATE SET quota_bytes = excluded.quota_bytes`,
    ),
    clearTenantQuota: db.prepare<[string]>('DELETE FROM tenants WHERE tenant = ?'),
    ping: db.prepare('SELECT 1').pluck(),
  };

  return { db, statements };
}

/**
 * A row of `objects` deleted under retention and not yet settled: invisible (its `expires_at` is
 * 0), out of the usage ledger, and in truth a noncurrent version and a delete marker, which
 * `SqliteVersions` reads in place and the sweeper (or the key's next write) settles into
 * `object_versions`. A prefix delete then costs an update of each row, not two inserts.
 */
export const SOFT_DELETED = '(deleted_purge IS NOT NULL)';

/**
 * The rows the usage ledger counts: every row of `objects` (expired ones until swept) but those
 * deleted under retention; for a database as it is (fsck opens one a server of an older version
 * left, which has no such rows and no such column).
 */
export function countedRows(db: Database): string {
  return tableColumns(db, 'objects').includes('deleted_purge') ? `NOT ${SOFT_DELETED}` : '1';
}

/** The names of a table's columns, as the database has them. */
function tableColumns(db: Database, table: string): string[] {
  return db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[];
}

/** Adds to `table` those of `definitions` (`name TYPE …`) it lacks, in order: an index made by an older version. */
function addMissingColumns(db: Database, table: string, definitions: readonly string[]): void {
  const columns = tableColumns(db, table);
  for (const definition of definitions)
    if (!columns.includes(definition.split(' ')[0] as string)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${definition}`);
}

/** Bytes and object count per tenant, over the rows the ledger counts. */
export function usageFromObjects(db: Database): string {
  return usageOfRows(countedRows(db));
}

/**
 * Creates the `usage` table, filled from the objects already stored: a data directory made
 * before usage was tracked starts with the right numbers. The check and the fill share one
 * write transaction, so a server and an admin command opening the index at once fill it once.
 */
export function ensureUsageTable(db: Database): void {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'usage'").pluck();
  if (exists.get()) return;
  db.transaction(() => {
    if (exists.get()) return;
    db.exec('CREATE TABLE usage (tenant TEXT PRIMARY KEY, bytes INTEGER NOT NULL, objects INTEGER NOT NULL)');
    db.exec(`INSERT INTO usage (tenant, bytes, objects) ${usageFromObjects(db)}`);
  }).immediate();
}

/**
 * Columns that let an upload session be continued from its row alone (the running sha256, the
 * blob store's staging record, the claim fence), and the queue of blobs to delete.
 */
function addSharedUploadState(db: Database): void {
  addMissingColumns(db, 'uploads', [
    'hash_state BLOB',
    'staging TEXT',
    'attempt INTEGER NOT NULL DEFAULT 0',
    'next_part INTEGER NOT NULL DEFAULT 0',
  ]);
  db.exec('CREATE TABLE IF NOT EXISTS gc_queue (blob_id TEXT PRIMARY KEY, due_at INTEGER NOT NULL)');
  db.exec('CREATE INDEX IF NOT EXISTS gc_queue_by_due ON gc_queue (due_at)');
  db.exec('CREATE TABLE IF NOT EXISTS chores (name TEXT PRIMARY KEY, next_at INTEGER NOT NULL)');
}

/**
 * Retention: every row's version id and the time it became current (null in rows written before:
 * read as 'null' and its Last-Modified), and the noncurrent versions (overwritten, deleted or moved
 * values, and delete markers) kept until `purge_after`.
 */
function addVersions(db: Database): void {
  addMissingColumns(db, 'objects', ['version_id TEXT', 'current_since INTEGER']);
  db.exec(`CREATE TABLE IF NOT EXISTS object_versions (
    id INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    type TEXT NOT NULL,
    key BLOB NOT NULL,
    version_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    expires_at INTEGER,
    blob_id TEXT,
    inline_data BLOB,
    attributes TEXT,
    current_since INTEGER NOT NULL,
    stopped_at INTEGER NOT NULL,
    purge_after INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL DEFAULT 0
  )`);
  // A version's natural key (stowage migrate upserts by it), led by the version id: ids begin with
  // the time they were made, so a new version is entered at the index's right edge, not in a page
  // of its key (one more page written per key and commit, which cost overwrites with retention 15%).
  db.exec('DROP INDEX IF EXISTS object_versions_by_version');
  db.exec('CREATE UNIQUE INDEX IF NOT EXISTS object_versions_by_version_id ON object_versions (version_id, tenant, type, key)');
  db.exec('CREATE INDEX IF NOT EXISTS object_versions_by_blob ON object_versions (blob_id) WHERE blob_id IS NOT NULL');
  addVersionKeys(db);
}

/**
 * The versions' key order and purge order, filed in batches (sqlite-versions.ts): `version_keys`
 * and `version_purges` are the indexes of object_versions by (tenant, type, key, id) and by
 * (purge_after, id), kept by hand instead of by SQLite, and `versions_filed` says up to which id
 * they are complete. A version is inserted with no entry in either (its id is the table's next,
 * at the right edge) and filed with many others later, so an overwrite under retention writes
 * no page of its key's in an index, and fewer pages in all; readers read the rows above the mark
 * beside the filed ones (sqlite-versions.ts). New rows get ids above every row's:
 * the delete trigger keeps the mark at or below the largest id, so that an id used again after a
 * delete is above it; it and the update trigger keep both orders exact.
 */
function addVersionKeys(db: Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS version_keys (
    tenant TEXT NOT NULL,
    type TEXT NOT NULL,
    key BLOB NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (tenant, type, key, id)
  ) WITHOUT ROWID`);
  db.exec(`CREATE TABLE IF NOT EXISTS version_purges (
    purge_after INTEGER NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (purge_after, id)
  ) WITHOUT ROWID`);
  db.exec('CREATE TABLE IF NOT EXISTS versions_filed (through INTEGER NOT NULL)');
  db.exec(`CREATE TRIGGER IF NOT EXISTS object_versions_unfiled AFTER DELETE ON object_versions BEGIN
    DELETE FROM version_keys WHERE tenant = old.tenant AND type = old.type AND key = old.key AND id = old.id;
    DELETE FROM version_purges WHERE purge_after = old.purge_after AND id = old.id;
    UPDATE versions_filed SET through = (SELECT COALESCE(MAX(id), 0) FROM object_versions)
    WHERE through > (SELECT COALESCE(MAX(id), 0) FROM object_versions);
  END`);
  // A filed version whose place in an order changes (an upsert of `stowage migrate` may set its
  // purge time) moves there; its id, which the mark is about, never changes.
  db.exec(`CREATE TRIGGER IF NOT EXISTS object_versions_id_fixed BEFORE UPDATE OF id ON object_versions
  WHEN new.id != old.id BEGIN
    SELECT RAISE(ABORT, 'a version keeps its id');
  END`);
  db.exec(`CREATE TRIGGER IF NOT EXISTS object_versions_refiled AFTER UPDATE OF tenant, type, key, purge_after ON object_versions
  WHEN old.id <= (SELECT through FROM versions_filed)
    AND (new.tenant != old.tenant OR new.type != old.type OR new.key != old.key OR new.purge_after != old.purge_after)
  BEGIN
    DELETE FROM version_keys WHERE tenant = old.tenant AND type = old.type AND key = old.key AND id = old.id;
    DELETE FROM version_purges WHERE purge_after = old.purge_after AND id = old.id;
    INSERT OR IGNORE INTO version_keys (tenant, type, key, id) VALUES (new.tenant, new.type, new.key, new.id);
    INSERT OR IGNORE INTO version_purges (purge_after, id) VALUES (new.purge_after, new.id);
  END`);
  // The indexes an older version kept at every write (again, after a downgrade and back) go; the
  // versions they indexed are filed when the mark is first set, and are above it after that.
  const olderIndexes = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('object_versions_by_key', 'object_versions_by_purge')")
    .pluck();
  const marked = db.prepare('SELECT 1 FROM versions_filed').pluck();
  if (marked.get() && olderIndexes.all().length === 0) return;
  db.transaction(() => {
    if (!marked.get()) refileVersions(db);
    for (const name of olderIndexes.all() as string[]) db.exec(`DROP INDEX IF EXISTS ${name}`);
  }).immediate();
}

/** The versions above the mark: not yet in version_keys and version_purges. */
export const UNFILED = 'id > (SELECT through FROM versions_filed)';
/** Whether any version is above the mark (a filing has anything to do). */
export const ANY_UNFILED = `SELECT 1 FROM object_versions WHERE ${UNFILED} LIMIT 1`;

/** The statements of a filing: each order's entries for the versions above the mark, sorted; then the mark at the last id. */
export const FILING_STATEMENTS = [
  `INSERT OR IGNORE INTO version_keys (tenant, type, key, id)
   SELECT tenant, type, key, id FROM object_versions WHERE ${UNFILED} ORDER BY tenant, type, key, id`,
  `INSERT OR IGNORE INTO version_purges (purge_after, id)
   SELECT purge_after, id FROM object_versions WHERE ${UNFILED} ORDER BY purge_after, id`,
  'UPDATE versions_filed SET through = (SELECT COALESCE(MAX(id), 0) FROM object_versions)',
] as const;

/** Files every version from none (see addVersionKeys): both orders emptied, the mark at 0; inside the caller's transaction. */
export function refileVersions(db: Database): void {
  db.exec('DELETE FROM version_keys; DELETE FROM version_purges; DELETE FROM versions_filed');
  db.exec('INSERT INTO versions_filed (through) VALUES (0)');
  for (const sql of FILING_STATEMENTS) db.prepare(sql).run();
}

/**
 * Deletes under retention kept in place (`SOFT_DELETED`): when the row was deleted (its time as a
 * version's end and as its delete marker's), when that version may be purged, the marker's
 * version id, and the row's own expiry before the delete (its `expires_at` is then 0).
 */
function addSoftDeletes(db: Database): void {
  addMissingColumns(db, 'objects', ['deleted_at INTEGER', 'deleted_purge INTEGER', 'deleted_marker TEXT', 'deleted_expires_at INTEGER']);
}

/** The parts of composite values, in order (composite.ts): a blob of the store, or inline bytes, each. */
const MANIFESTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS manifest_parts (
  manifest_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  blob_id TEXT,
  inline_data BLOB,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (manifest_id, seq)
);
CREATE INDEX IF NOT EXISTS manifest_parts_by_blob ON manifest_parts (blob_id) WHERE blob_id IS NOT NULL;
`;

/** Metadata, Cache-Control and Content-Disposition (JSON): data dirs made before objects had them lack it. */
function addAttributesColumn(db: Database): void {
  addMissingColumns(db, 'objects', ['attributes TEXT']);
  // API key secrets sealed under the server secret, for S3 signatures; names, scopes (JSON:
  // read-only, one bucket, one prefix) and revocation of API keys.
  addMissingColumns(db, 'api_keys', ['secret_sealed TEXT', 'name TEXT', 'scope TEXT', 'revoked_at INTEGER']);
  db.exec('CREATE INDEX IF NOT EXISTS api_keys_by_tenant ON api_keys (tenant, created_at)');
}

/**
 * Data dirs made before uploads could be cancelled lack the column. A cancelled session keeps
 * its row until its URL expires, so the URL cannot start a new upload after a DELETE.
 */
function addCancelledColumn(db: Database): void {
  addMissingColumns(db, 'uploads', ['cancelled INTEGER NOT NULL DEFAULT 0']);
  // Quota checks sum a tenant's open uploads on every write: an index range, not a table scan.
  db.exec('CREATE INDEX IF NOT EXISTS uploads_open_by_tenant ON uploads (tenant) WHERE completed_json IS NULL AND cancelled = 0');
}
