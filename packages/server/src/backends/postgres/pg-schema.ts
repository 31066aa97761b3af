import type pg from 'pg';
import { quoteIdent } from './pg-connect.js';

/**
 * The index's tables, one migration per change, applied in order and recorded in
 * `stowage_migrations`. Never edit a migration that shipped: add the next one.
 *
 * Keys are BYTEA (UTF-8), so ordering is by byte, the same as SQLite's BLOB keys, and a prefix
 * is one range of the (tenant, type, key) index. Instants are BIGINT milliseconds passed in by
 * the caller (never the database's clock), so a test clock governs expiry.
 */
export const MIGRATIONS: ReadonlyArray<{ readonly version: number; readonly name: string; readonly sql: string }> = [
  {
    version: 1,
    name: 'objects, uploads, usage, quotas, api keys, gc queue',
    sql: `
      CREATE TABLE objects (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant TEXT NOT NULL,
        type TEXT NOT NULL,
        key BYTEA NOT NULL,
        size BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        content_type TEXT NOT NULL,
        last_modified BIGINT NOT NULL,
        expires_at BIGINT,
        blob_id TEXT,
        inline_data BYTEA
      );
      CREATE UNIQUE INDEX objects_by_key ON objects (tenant, type, key);
      CREATE INDEX objects_by_expiry ON objects (expires_at) WHERE expires_at IS NOT NULL;
      CREATE INDEX objects_by_blob ON objects (blob_id) WHERE blob_id IS NOT NULL;

      CREATE TABLE uploads (
        upload_id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        type TEXT NOT NULL,
        key BYTEA NOT NULL,
        content_type TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        object_expires_at BIGINT,
        received BIGINT NOT NULL DEFAULT 0,
        total BIGINT,
        completed_json TEXT,
        cancelled BOOLEAN NOT NULL DEFAULT false,
        hash_state BYTEA,
        staging TEXT,
        attempt INTEGER NOT NULL DEFAULT 0,
        next_part INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX uploads_by_expiry ON uploads (expires_at);
      -- Quota checks sum a tenant's open uploads: an index range, not a table scan.
      CREATE INDEX uploads_open_by_tenant ON uploads (tenant) INCLUDE (received) WHERE completed_json IS NULL AND NOT cancelled;

      CREATE TABLE tenants (
        tenant TEXT PRIMARY KEY,
        quota_bytes BIGINT
      );
      CREATE TABLE usage (
        tenant TEXT PRIMARY KEY,
        bytes BIGINT NOT NULL,
        objects BIGINT NOT NULL
      );
      CREATE TABLE api_keys (
        client_id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
      CREATE TABLE gc_queue (
        blob_id TEXT PRIMARY KEY,
        due_at BIGINT NOT NULL
      );
      CREATE INDEX gc_queue_by_due ON gc_queue (due_at);
    `,
  },
  {
    version: 2,
    name: 'chores: background work one server runs at a time',
    sql: `
      CREATE TABLE chores (
        name TEXT PRIMARY KEY,
        next_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'object attributes: metadata, Cache-Control, Content-Disposition',
    sql: 'ALTER TABLE objects ADD COLUMN attributes TEXT;',
  },
  {
    version: 4,
    name: 'API key secrets sealed under the server secret, for S3 signatures',
    sql: 'ALTER TABLE api_keys ADD COLUMN secret_sealed TEXT;',
  },
  {
    version: 5,
    name: "bucket settings: CORS configurations of the tenants' buckets",
    sql: `
      CREATE TABLE bucket_settings (
        tenant TEXT NOT NULL,
        type TEXT NOT NULL,
        cors TEXT,
        PRIMARY KEY (tenant, type)
      );
    `,
  },
  {
    version: 6,
    name: 'named buckets: owner, quota, settings, usage, and whom the settings grant something',
    // Names in byte order (COLLATE "C"), as SQLite orders them, whatever the database's collation.
    sql: `
      CREATE TABLE buckets (
        name TEXT COLLATE "C" PRIMARY KEY,
        owner TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        quota_bytes BIGINT,
        settings TEXT NOT NULL,
        bytes BIGINT NOT NULL DEFAULT 0,
        objects BIGINT NOT NULL DEFAULT 0
      );
      CREATE INDEX buckets_by_owner ON buckets (owner, name);
      CREATE TABLE bucket_grantees (
        bucket TEXT COLLATE "C" NOT NULL,
        grantee TEXT NOT NULL,
        PRIMARY KEY (bucket, grantee)
      );
      CREATE INDEX bucket_grantees_by_grantee ON bucket_grantees (grantee, bucket);
    `,
  },
  {
    version: 7,
    name: 'retention: version ids of current rows, and noncurrent versions kept until purge_after',
    // Rows written before have no version id ('null', as S3 names it) and no current_since (their last_modified).
    sql: `
      ALTER TABLE objects ADD COLUMN version_id TEXT, ADD COLUMN current_since BIGINT;
      CREATE TABLE object_versions (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant TEXT NOT NULL,
        type TEXT NOT NULL,
        key BYTEA NOT NULL,
        version_id TEXT NOT NULL,
        size BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        content_type TEXT NOT NULL,
        last_modified BIGINT NOT NULL,
        expires_at BIGINT,
        blob_id TEXT,
        inline_data BYTEA,
        attributes TEXT,
        current_since BIGINT NOT NULL,
        stopped_at BIGINT NOT NULL,
        purge_after BIGINT NOT NULL,
        delete_marker BOOLEAN NOT NULL DEFAULT false
      );
      CREATE INDEX object_versions_by_key ON object_versions (tenant, type, key, id);
      CREATE UNIQUE INDEX object_versions_by_version ON object_versions (tenant, type, key, version_id);
      CREATE INDEX object_versions_by_purge ON object_versions (purge_after);
      CREATE INDEX object_versions_by_blob ON object_versions (blob_id) WHERE blob_id IS NOT NULL;
    `,
  },
  {
    version: 8,
    name: "API keys' names, scopes (read-only, one bucket, one prefix) and revocation",
    sql: `
      ALTER TABLE api_keys ADD COLUMN name TEXT, ADD COLUMN scope TEXT, ADD COLUMN revoked_at BIGINT;
      CREATE INDEX api_keys_by_tenant ON api_keys (tenant, created_at);
    `,
  },
  {
    version: 9,
    name: "usage in stripes: a tenant's writers charge one of several rows, with ceilings that keep quotas exact",
    sql: `
      ALTER TABLE usage ADD COLUMN stripe SMALLINT NOT NULL DEFAULT 0, ADD COLUMN ceiling BIGINT, ADD COLUMN quota_basis BIGINT;
      ALTER TABLE usage DROP CONSTRAINT usage_pkey, ADD PRIMARY KEY (tenant, stripe);
    `,
  },
  {
    version: 10,
    name: 'versions by version id first: a new version goes to the right edge of the index, not into a page of its key',
    sql: `
      DROP INDEX object_versions_by_version;
      CREATE UNIQUE INDEX object_versions_by_version_id ON object_versions (version_id, tenant, type, key);
    `,
  },
  {
    version: 11,
    name: 'composite values: the parts of a manifest, in order (an object completed from a multipart upload names its parts)',
    sql: `
      CREATE TABLE manifest_parts (
        manifest_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        blob_id TEXT,
        inline_data BYTEA,
        size BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        PRIMARY KEY (manifest_id, seq)
      );
      CREATE INDEX manifest_parts_by_blob ON manifest_parts (blob_id) WHERE blob_id IS NOT NULL;
    `,
  },
];

/** Distinguishes this lock from other advisory locks in the database (two-key form: class, schema). */
const MIGRATION_LOCK_CLASS = 0x5707;

/**
 * Brings `schema` up to the newest migration. Runs under a session advisory lock on the schema's
 * name, so N servers starting at once apply each migration once: the others wait, then find it
 * recorded. Each migration commits with its record, so a crash mid-way leaves none half applied.
 */
export async function migrate(client: pg.Client, schema: string): Promise<void> {
  // DDL on a large table may take longer than a request's statement timeout.
  await client.query('SET statement_timeout = 0');
  await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
  try {
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    // Only when missing: CREATE SCHEMA needs a privilege that using an existing one does not.
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
    await client.query(`SET search_path TO ${quoteIdent(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS stowage_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM stowage_migrations');
    const applied = new Set(rows.map((row) => row.version));
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO stowage_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`PostgreSQL index migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]).catch(() => {});
  }
}
