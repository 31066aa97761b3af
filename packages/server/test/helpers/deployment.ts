import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ServerConfig } from '../../src/config.js';
import { freshPgSchema } from './postgres.js';
import { freshS3Prefix } from './s3.js';

/**
 * Which deployment the API, client and CLI suites run against: `embedded` (SQLite + files, the
 * default) or `postgres-s3` (scripts/test.sh sets STOWAGE_TEST_DEPLOYMENT for its second pass).
 */
export type Deployment = 'embedded' | 'postgres-s3';
export const deployment: Deployment = process.env.STOWAGE_TEST_DEPLOYMENT === 'postgres-s3' ? 'postgres-s3' : 'embedded';

/** For `{ skip }`: a test of the data directory's own files, which the scale-out deployment has none of. */
export const embeddedOnly: string | false = deployment === 'embedded' ? false : 'checks files of the embedded deployment';

/** A fresh place for one server's data: a PostgreSQL schema and a bucket prefix of its own. */
export interface StorageNamespace {
  /** Config fields for an in-process server. */
  readonly fields: Partial<ServerConfig>;
  /** The same as environment variables, for a `stowage` process. */
  readonly env: Record<string, string>;
  /** Drops the schema and empties the prefix. */
  drop(): Promise<void>;
}

const byDataDir = new Map<string, Promise<StorageNamespace>>();

/**
 * The namespace of a data directory: every server started on one data directory (and its
 * restarts, and the CLI's admin commands on it) shares one schema and prefix, as they share the
 * directory itself when embedded. It lives as long as the test process.
 */
export function namespaceOf(dataDir: string, kind: Deployment = deployment): Promise<StorageNamespace> {
  const key = `${kind}:${path.resolve(dataDir)}`;
  let namespace = byDataDir.get(key);
  if (!namespace) {
    namespace = freshNamespace(kind);
    byDataDir.set(key, namespace);
  }
  return namespace;
}

/** Nothing for the embedded deployment (the data directory is the namespace). */
export async function freshNamespace(kind: Deployment = deployment): Promise<StorageNamespace> {
  if (kind === 'embedded') return { fields: {}, env: {}, drop: async () => {} };
  const pg = await freshPgSchema();
  const s3 = await freshS3Prefix();
  if (!pg || !s3)
    throw new Error('STOWAGE_TEST_DEPLOYMENT=postgres-s3 needs STOWAGE_TEST_PG_URL and STOWAGE_TEST_S3_* (run scripts/test.sh)');
  const jwtSecret = randomBytes(32).toString('hex');
  const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  return {
    fields: {
      index: { kind: 'postgres', url: pg.url, schema: pg.schema, poolSize: 8 },
      blobs: {
        kind: 's3',
        bucket: s3.bucket,
        prefix: s3.prefix,
        endpoint: s3.endpoint,
        region: s3.region,
        forcePathStyle: true,
        credentials,
      },
      jwtSecret,
    },
    env: {
      STOWAGE_INDEX: pg.url,
      STOWAGE_INDEX_SCHEMA: pg.schema,
      STOWAGE_INDEX_POOL_SIZE: '8',
      STOWAGE_BLOBS: `s3://${s3.bucket}/${s3.prefix}`,
      STOWAGE_S3_ENDPOINT: s3.endpoint,
      STOWAGE_S3_REGION: s3.region,
      STOWAGE_S3_ACCESS_KEY_ID: s3.accessKeyId,
      STOWAGE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      STOWAGE_JWT_SECRET: jwtSecret,
    },
    async drop() {
      await pg.drop();
      await s3.drop();
    },
  };
}
