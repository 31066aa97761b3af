import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A schema of its own in the test database, for one test server or index. */
export interface PgSchema {
  /** The test database's URL (STOWAGE_TEST_PG_URL). */
  readonly url: string;
  readonly schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Creates a uniquely named schema (`t_<hex>`) in the database STOWAGE_TEST_PG_URL names;
 * undefined when it is unset (start one with scripts/services/postgres-start.sh).
 */
export async function freshPgSchema(): Promise<PgSchema | undefined> {
  const url = process.env.STOWAGE_TEST_PG_URL;
  if (!url) return undefined;
  const schema = `t_${randomBytes(8).toString('hex')}`;
  await withClient(url, (client) => client.query(`CREATE SCHEMA "${schema}"`));
  return {
    url,
    schema,
    async drop() {
      await withClient(url, (client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    },
  };
}
