import pg from 'pg';
import { describeCause } from './pg-errors.js';

export interface PgConnectOptions {
  readonly connectionString: string;
  /** The schema holding every table (created if missing); default `public`. */
  readonly schema?: string | undefined;
  /** Connections per server; default 20. */
  readonly poolSize?: number | undefined;
  /** A statement running longer is cancelled (StorageUnavailable); default 5000. */
  readonly statementTimeoutMs?: number | undefined;
  /** A connection not had within this fails the request (StorageUnavailable); default 5000. */
  readonly connectTimeoutMs?: number | undefined;
}

/** Where the index lives, for messages: host, port and database, never the password. */
export interface PgTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string | undefined;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const INT8_OID = 20;

/** Parses the URL for messages, failing with a readable error that never repeats the URL (it may hold a password). */
export function parseTarget(connectionString: string): PgTarget {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new Error('The PostgreSQL index URL is not a valid URL (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new Error(`The PostgreSQL index URL must start with postgres:// or postgresql://, not ${url.protocol}//`);
  const socketHost = url.searchParams.get('host');
  const port = url.port ? Number(url.port) : Number(url.searchParams.get('port') ?? 5432);
  return {
    host: url.hostname || socketHost || 'localhost',
    port,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username) || 'postgres',
    user: decodeURIComponent(url.username),
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
}

export function describeTarget(target: PgTarget): string {
  return `${target.host}:${target.port}`;
}

/** The schema name, checked: it is spliced into DDL and the connection's search_path. */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema))
    throw new Error(`PostgreSQL schema name "${schema}" is not allowed: use letters, digits and _ (at most 63, not starting with a digit)`);
  return schema;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** BIGINT columns hold sizes and instants in ms: well inside a double's exact range. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Connection settings shared by the pool and the migration connection: every connection sees
 * only `schema`, and nothing waits unbounded (connect, statement, read, idle in transaction).
 */
export function clientConfig(options: PgConnectOptions, schema: string): pg.ClientConfig {
  const statementTimeoutMs = options.statementTimeoutMs ?? 5_000;
  return {
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    statement_timeout: statementTimeoutMs,
    // The server cancels at statement_timeout; this catches a server that no longer answers at all.
    query_timeout: statementTimeoutMs + 2_000,
    // A transaction left open by a stalled process must not hold row and key locks for ever.
    idle_in_transaction_session_timeout: Math.max(statementTimeoutMs * 2, 10_000),
    keepAlive: true,
    application_name: 'stowage',
    options: `-c search_path=${quoteIdent(schema)}`,
    types,
  };
}

/** A connection of its own (migrations), opened with a readable error when it cannot be. */
export async function connectOnce(config: pg.ClientConfig, target: PgTarget): Promise<pg.Client> {
  const client = new pg.Client(config);
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new Error(
      `Cannot open the PostgreSQL index at ${describeTarget(target)} (database "${target.database}", user "${target.user}"): ${describeCause(error, target.password)}`,
      { cause: error },
    );
  }
  return client;
}
