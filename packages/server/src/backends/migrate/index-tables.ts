import Sqlite, { type Database, type Statement } from 'better-sqlite3';
import type pg from 'pg';
import { namesStoredBlob } from '../composite.js';
import { bucketCountersOfRows, usageOfRows } from '../derived-counters.js';
import { countedRows } from '../fs/index-db.js';
import { clientConfig, connectOnce, parseTarget, quoteIdent } from '../postgres/pg-connect.js';
import { columnsOf, type MigratedTable, type Row } from './tables.js';

/**
 * The rows of one index (a data directory's SQLite, or PostgreSQL) as `stowage migrate` reads and
 * writes them: table by table, in key order, by natural keys. Reads between `beginSnapshot` and
 * `endSnapshot` all see one consistent state of the index, while servers keep writing to it.
 */
export interface IndexTables {
  beginSnapshot(): Promise<void>;
  endSnapshot(): Promise<void>;
  /** Up to `limit` rows after `after` (by the table's key), in key order. */
  scan(table: MigratedTable, after: Row | undefined, limit: number): Promise<Row[]>;
  /** The rows of these keys that exist. */
  lookup(table: MigratedTable, keys: readonly Row[]): Promise<Row[]>;
  /** Inserts or replaces these rows by their keys, in one transaction. */
  upsert(table: MigratedTable, rows: readonly Row[]): Promise<void>;
  /** Removes the rows of these keys, in one transaction. */
  remove(table: MigratedTable, keys: readonly Row[]): Promise<void>;
  /** Rows of the table and the bytes of its blobs (for progress). */
  count(table: MigratedTable): Promise<{ rows: number; bytes: number }>;
  /** Resumable upload sessions still open (they are not migrated). */
  openUploads(): Promise<number>;
  /** Recomputes what is derived from the objects: each tenant's usage, each bucket's bytes and objects. */
  recomputeDerived(): Promise<void>;
  close(): Promise<void>;
}

const list = (columns: readonly string[]) => columns.map(quoteIdent).join(', ');

function keyValues(table: MigratedTable, row: Row): unknown[] {
  return table.key.map((column) => row[column]);
}

/** A PostgreSQL row as both databases take it: booleans as SQLite keeps them, 0 and 1. */
function asPortable(row: Row): Row {
  for (const [column, value] of Object.entries(row)) if (typeof value === 'boolean') row[column] = value ? 1 : 0;
  return row;
}

function upsertTail(table: MigratedTable): string {
  const keys = list(table.key);
  if (table.columns.length === 0) return `ON CONFLICT (${keys}) DO NOTHING`;
  return `ON CONFLICT (${keys}) DO UPDATE SET ${table.columns.map((c) => `${quoteIdent(c)} = excluded.${quoteIdent(c)}`).join(', ')}`;
}

/** The index of a data directory. Opened read-write, but only a destination is written. */
export class SqliteTables implements IndexTables {
  private readonly statements = new Map<string, Statement>();
  private inSnapshot = false;
  /** The condition that selects the rows of `objects` that are objects (rowsOf). */
  private objectRows: string | undefined;

  constructor(private readonly db: Database) {}

  static open(file: string): SqliteTables {
    const db = new Sqlite(file, { fileMustExist: true, timeout: 5_000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    return new SqliteTables(db);
  }

  private prepare(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private hasTable(name: string): boolean {
    return this.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
  }

  async beginSnapshot(): Promise<void> {
    // A deferred transaction takes its snapshot at its first read and keeps it to the end (WAL).
    this.db.exec('BEGIN');
    this.db.prepare('SELECT 1 FROM objects LIMIT 1').get();
    this.inSnapshot = true;
  }

  async endSnapshot(): Promise<void> {
    if (this.inSnapshot) this.db.exec('COMMIT');
    this.inSnapshot = false;
  }

  /**
   * Which rows of `table` are its rows: those of `objects` deleted under retention are versions
   * (kept in place until settled), copied once settled; the final pass settles them first.
   */
  private rowsOf(table: MigratedTable): string {
    if (table.name !== 'objects') return '1';
    // Asked once: every scan of a pass asks it, and the columns do not change while it runs.
    this.objectRows ??= countedRows(this.db);
    return this.objectRows;
  }

  async scan(table: MigratedTable, after: Row | undefined, limit: number): Promise<Row[]> {
    // A data directory no server of this version opened yet lacks the newer tables: they are empty.
    if (!this.hasTable(table.name)) return [];
    const keys = list(table.key);
    const where = `WHERE ${this.rowsOf(table)}${after ? ` AND (${keys}) > (${table.key.map(() => '?').join(', ')})` : ''}`;
    const sql = `SELECT ${list(columnsOf(table))} FROM ${quoteIdent(table.name)} ${where} ORDER BY ${keys} LIMIT ?`;
    return this.prepare(sql).all(...(after ? keyValues(table, after) : []), limit) as Row[];
  }

  async lookup(table: MigratedTable, keys: readonly Row[]): Promise<Row[]> {
    if (keys.length === 0 || !this.hasTable(table.name)) return [];
    const tuple = `(${table.key.map(() => '?').join(', ')})`;
    const sql = `SELECT ${list(columnsOf(table))} FROM ${quoteIdent(table.name)}
      WHERE ${this.rowsOf(table)} AND (${list(table.key)}) IN (VALUES ${keys.map(() => tuple).join(', ')})`;
    return this.db.prepare(sql).all(...keys.flatMap((row) => keyValues(table, row))) as Row[];
  }

  async upsert(table: MigratedTable, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = columnsOf(table);
    const statement = this.prepare(
      `INSERT INTO ${quoteIdent(table.name)} (${list(columns)}) VALUES (${columns.map(() => '?').join(', ')}) ${upsertTail(table)}`,
    );
    this.db.transaction(() => {
      for (const row of rows) statement.run(...columns.map((column) => row[column] ?? null));
    })();
  }

  async remove(table: MigratedTable, keys: readonly Row[]): Promise<void> {
    if (keys.length === 0) return;
    const statement = this.prepare(
      `DELETE FROM ${quoteIdent(table.name)} WHERE ${table.key.map((column) => `${quoteIdent(column)} = ?`).join(' AND ')}`,
    );
    this.db.transaction(() => {
      for (const key of keys) statement.run(...keyValues(table, key));
    })();
  }

  async count(table: MigratedTable): Promise<{ rows: number; bytes: number }> {
    if (!this.hasTable(table.name)) return { rows: 0, bytes: 0 };
    const bytes = table.blob
      ? `COALESCE(SUM(CASE WHEN ${quoteIdent(table.blob.id)} IS NOT NULL AND ${namesStoredBlob(quoteIdent(table.blob.id))} THEN ${quoteIdent(table.blob.size)} END), 0)`
      : '0';
    const row = this.db
      .prepare(`SELECT COUNT(*) AS rows, ${bytes} AS bytes FROM ${quoteIdent(table.name)} WHERE ${this.rowsOf(table)}`)
      .get() as {
      rows: number;
      bytes: number;
    };
    return { rows: Number(row.rows), bytes: Number(row.bytes) };
  }

  async openUploads(): Promise<number> {
    return Number(this.db.prepare('SELECT COUNT(*) FROM uploads WHERE completed_json IS NULL AND cancelled = 0').pluck().get());
  }

  async recomputeDerived(): Promise<void> {
    this.db.transaction(() => {
      const counted = countedRows(this.db);
      this.db.exec('DELETE FROM usage');
      this.db.exec(`INSERT INTO usage (tenant, bytes, objects) ${usageOfRows(counted)}`);
      this.db.exec(bucketCountersOfRows(counted));
    })();
  }

  async close(): Promise<void> {
    if (this.inSnapshot) this.db.exec('ROLLBACK');
    this.db.close();
  }
}

/**
 * The PostgreSQL index. One connection reads (a REPEATABLE READ, READ ONLY transaction per pass:
 * one snapshot while servers keep writing), another writes. No statement timeout: a batch of a
 * large migration may take longer than a request would.
 */
export class PgTables implements IndexTables {
  private inSnapshot = false;

  private constructor(
    private readonly reader: pg.Client,
    private readonly writer: pg.Client,
  ) {}

  static async open(connectionString: string, schema: string): Promise<PgTables> {
    const target = parseTarget(connectionString);
    const config: pg.ClientConfig = {
      ...clientConfig({ connectionString }, schema),
      statement_timeout: 0,
      query_timeout: undefined,
      idle_in_transaction_session_timeout: 0,
      application_name: 'stowage migrate',
    };
    const reader = await connectOnce(config, target);
    try {
      const writer = await connectOnce(config, target);
      return new PgTables(reader, writer);
    } catch (error) {
      await reader.end().catch(() => {});
      throw error;
    }
  }

  async beginSnapshot(): Promise<void> {
    await this.reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await this.reader.query('SELECT 1 FROM objects LIMIT 1');
    this.inSnapshot = true;
  }

  async endSnapshot(): Promise<void> {
    if (this.inSnapshot) await this.reader.query('COMMIT');
    this.inSnapshot = false;
  }

  async scan(table: MigratedTable, after: Row | undefined, limit: number): Promise<Row[]> {
    const keys = list(table.key);
    const values = after ? keyValues(table, after) : [];
    const where = after ? `WHERE (${keys}) > (${values.map((_, i) => `$${i + 1}`).join(', ')})` : '';
    const sql = `SELECT ${list(columnsOf(table))} FROM ${quoteIdent(table.name)} ${where} ORDER BY ${keys} LIMIT $${values.length + 1}`;
    return (await this.reader.query(sql, [...values, limit])).rows.map(asPortable);
  }

  async lookup(table: MigratedTable, keys: readonly Row[]): Promise<Row[]> {
    if (keys.length === 0) return [];
    const width = table.key.length;
    const tuples = keys.map((_, row) => `(${table.key.map((__, column) => `$${row * width + column + 1}`).join(', ')})`);
    const sql = `SELECT ${list(columnsOf(table))} FROM ${quoteIdent(table.name)} WHERE (${list(table.key)}) IN (${tuples.join(', ')})`;
    return (
      await this.reader.query(
        sql,
        keys.flatMap((row) => keyValues(table, row)),
      )
    ).rows.map(asPortable);
  }

  async upsert(table: MigratedTable, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = columnsOf(table);
    const tuples = rows.map((_, row) => `(${columns.map((__, column) => `$${row * columns.length + column + 1}`).join(', ')})`);
    await this.writer.query(
      `INSERT INTO ${quoteIdent(table.name)} (${list(columns)}) VALUES ${tuples.join(', ')} ${upsertTail(table)}`,
      rows.flatMap((row) => columns.map((column) => row[column] ?? null)),
    );
  }

  async remove(table: MigratedTable, keys: readonly Row[]): Promise<void> {
    if (keys.length === 0) return;
    const width = table.key.length;
    const tuples = keys.map((_, row) => `(${table.key.map((__, column) => `$${row * width + column + 1}`).join(', ')})`);
    await this.writer.query(
      `DELETE FROM ${quoteIdent(table.name)} WHERE (${list(table.key)}) IN (${tuples.join(', ')})`,
      keys.flatMap((row) => keyValues(table, row)),
    );
  }

  async count(table: MigratedTable): Promise<{ rows: number; bytes: number }> {
    const bytes = table.blob
      ? `COALESCE(SUM(${quoteIdent(table.blob.size)}) FILTER (WHERE ${quoteIdent(table.blob.id)} IS NOT NULL AND ${namesStoredBlob(quoteIdent(table.blob.id))}), 0)`
      : '0';
    const { rows } = await this.reader.query(`SELECT COUNT(*) AS rows, ${bytes} AS bytes FROM ${quoteIdent(table.name)}`);
    return { rows: Number(rows[0].rows), bytes: Number(rows[0].bytes) };
  }

  async openUploads(): Promise<number> {
    const { rows } = await this.reader.query('SELECT COUNT(*) AS n FROM uploads WHERE completed_json IS NULL AND NOT cancelled');
    return Number(rows[0].n);
  }

  async recomputeDerived(): Promise<void> {
    await this.writer.query('BEGIN');
    try {
      await this.writer.query('DELETE FROM usage');
      await this.writer.query(`INSERT INTO usage (tenant, bytes, objects) ${usageOfRows('true')}`);
      await this.writer.query(bucketCountersOfRows('true'));
      await this.writer.query('COMMIT');
    } catch (error) {
      await this.writer.query('ROLLBACK').catch(() => {});
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.reader.end().catch(() => {});
    await this.writer.end().catch(() => {});
  }
}
