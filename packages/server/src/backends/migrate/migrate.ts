import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobsConfig, IndexConfig } from '../../config.js';
import type { Failpoint } from '../../failpoints.js';
import { BlobNotFoundError, type BlobStore } from '../blob-store.js';
import { isManifestId } from '../composite.js';
import { BlobFiles } from '../fs/blob-files.js';
import { type DataDirLock, lockDataDir } from '../fs/data-dir-lock.js';
import { FileBlobStore } from '../fs/file-blob-store.js';
import { SqliteIndex } from '../fs/sqlite-index.js';
import { type IndexTables, PgTables, SqliteTables } from './index-tables.js';
import { keyOf, MIGRATED_TABLES, type MigratedTable, type Row, sameRow } from './tables.js';

/** One side of a migration: a data directory, or PostgreSQL + S3 (the scale-out deployment). */
export type MigrateEndpoint =
  | { readonly kind: 'data-dir'; readonly dataDir: string }
  | {
      readonly kind: 'scale-out';
      readonly index: Extract<IndexConfig, { kind: 'postgres' }>;
      readonly blobs: Extract<BlobsConfig, { kind: 's3' }>;
    };

export interface MigrateOptions {
  readonly from: MigrateEndpoint;
  readonly to: MigrateEndpoint;
  /**
   * The catch-up pass, with the source stopped (a data directory is locked for it) or read-only:
   * also removes destination rows whose keys the source no longer has.
   */
  readonly final: boolean;
  /** Read every object back from the destination and check its sha256. */
  readonly verify: boolean;
  /** Blobs copied (and verified) at once. */
  readonly concurrency?: number | undefined;
  /** Rows per batch: the batch's blobs are copied, then its rows written in one transaction. */
  readonly batchRows?: number | undefined;
  /** Longest an S3 operation may wait (ms; STOWAGE_BLOB_TIMEOUT, 30 s): then it is tried again, up to 3 times. */
  readonly blobTimeoutMs?: number | undefined;
  readonly failpoint?: Failpoint | undefined;
  readonly onProgress?: ((progress: MigrateProgress) => void) | undefined;
}

export interface MigrateProgress {
  readonly phase: 'copy' | 'remove' | 'verify';
  readonly table: string;
  /** Rows (or objects, when verifying) done so far in this phase, over every table. */
  readonly rows: number;
  readonly totalRows: number;
  /** Blob bytes copied (or hashed) so far in this phase. */
  readonly bytes: number;
  readonly totalBytes: number;
}

export interface MigrateReport {
  /** Per table: rows written (new or changed), rows already equal, rows removed (final pass). */
  readonly tables: Record<string, { written: number; unchanged: number; removed: number }>;
  readonly blobs: { copied: number; present: number; bytesCopied: number };
  /**
   * Rows not copied because their blob was gone from the source. While the source serves, that is
   * an overwrite or delete that came after the snapshot, and the next pass copies the new state:
   * only the final pass counts them as failures (damage in the source: run fsck on it).
   */
  readonly missingBlobs: Array<{ table: string; key: string; blobId: string }>;
  /** Whether this was the final pass. */
  readonly final: boolean;
  readonly verified: { objects: number; bytes: number; mismatches: Array<{ table: string; key: string; problem: string }> } | undefined;
  /** Resumable upload sessions open in the source: not migrated. */
  readonly openUploads: number;
  /** The whole run, and the copy (both passes, without the verification). */
  readonly seconds: number;
  readonly copySeconds: number;
  readonly ok: boolean;
}

/** How a source blob is read. */
interface BlobSource {
  read(blobId: string, size: number): Promise<Readable>;
  close(): Promise<void>;
}

interface Side {
  readonly tables: IndexTables;
  readonly blobs: BlobSource;
  /** Only a destination has it. */
  readonly store: BlobStore | undefined;
  readonly lock: DataDirLock | undefined;
}

const BATCH_ROWS = 500;

/**
 * Copies one deployment's index rows and the blobs they name to another: see docs/deploy.md,
 * "Moving to many servers". Every pass compares the source's rows (one snapshot) with the
 * destination's by natural key and writes those that differ, each batch's blobs first, so the
 * destination never holds a row without its blob; a blob already at the destination with the
 * right size is not copied again. A crash at any point loses nothing: the next run goes on.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateReport> {
  const started = Date.now();
  const concurrency = options.concurrency ?? 8;
  const batchRows = options.batchRows ?? BATCH_ROWS;
  const failpoint = options.failpoint ?? (() => {});
  const opened: Side[] = [];
  try {
    const source = await openSide(options.from, 'source', options);
    opened.push(source);
    const destination = await openSide(options.to, 'destination', options);
    opened.push(destination);
    const store = destination.store as BlobStore;

    const tables: MigrateReport['tables'] = {};
    const blobs = { copied: 0, present: 0, bytesCopied: 0 };
    const missingBlobs: MigrateReport['missingBlobs'] = [];

    // 1. Copy: one snapshot of the source, table by table, batch by batch.
    await source.tables.beginSnapshot();
    const openUploads = await source.tables.openUploads();
    let total = { rows: 0, bytes: 0 };
    for (const table of MIGRATED_TABLES) {
      const counted = await source.tables.count(table);
      total = { rows: total.rows + counted.rows, bytes: total.bytes + counted.bytes };
    }
    const progress = { rows: 0, bytes: 0 };
    const report = (phase: MigrateProgress['phase'], table: string, totals = total) =>
      options.onProgress?.({
        phase,
        table: table,
        rows: progress.rows,
        totalRows: totals.rows,
        bytes: progress.bytes,
        totalBytes: totals.bytes,
      });
    report('copy', MIGRATED_TABLES[0]?.name ?? '');
    for (const table of MIGRATED_TABLES) {
      const counts = { written: 0, unchanged: 0, removed: 0 };
      tables[table.name] = counts;
      let after: Row | undefined;
      for (;;) {
        const rows = await source.tables.scan(table, after, batchRows);
        if (rows.length === 0) break;
        after = rows[rows.length - 1];
        const existing = new Map((await destination.tables.lookup(table, rows)).map((row) => [keyOf(table, row), row]));
        const changed = rows.filter((row) => {
          const there = existing.get(keyOf(table, row));
          return !there || !sameRow(table, row, there);
        });
        counts.unchanged += rows.length - changed.length;
        let writable = changed;
        if (table.blob) {
          const blob = table.blob;
          const wanted = new Map<string, number>();
          for (const row of changed) {
            const id = row[blob.id];
            if (typeof id === 'string' && !isManifestId(id)) wanted.set(id, Number(row[blob.size]));
          }
          const missing = new Set<string>();
          await forEachLimited([...wanted], concurrency, async ([blobId, size]) => {
            const copied = await withRetries(async () => {
              const held = await store.blobSize(blobId);
              if (held === size) return 'present';
              if (held !== undefined) await store.delete(blobId);
              let body: Readable;
              try {
                body = await source.blobs.read(blobId, size);
              } catch (error) {
                if (error instanceof BlobNotFoundError) return 'missing';
                throw error;
              }
              await store.put({ blobId, body, size });
              return 'copied';
            });
            if (copied === 'missing') {
              missing.add(blobId);
              return;
            }
            if (copied === 'present') {
              blobs.present++;
              progress.bytes += size;
              return;
            }
            blobs.copied++;
            blobs.bytesCopied += size;
            progress.bytes += size;
            failpoint('migrate.after-blob');
            report('copy', table.name);
          });
          writable = changed.filter((row) => {
            const id = row[blob.id];
            if (typeof id !== 'string' || !missing.has(id)) return true;
            missingBlobs.push({ table: table.name, key: describeKey(table, row), blobId: id });
            return false;
          });
        }
        await destination.tables.upsert(table, writable);
        counts.written += writable.length;
        progress.rows += rows.length;
        report('copy', table.name);
      }
    }
    await source.tables.endSnapshot();

    // 2. Final pass: the destination loses the rows whose keys the source no longer has.
    if (options.final) {
      await source.tables.beginSnapshot();
      let held = { rows: 0, bytes: 0 };
      for (const table of MIGRATED_TABLES) {
        const counted = await destination.tables.count(table);
        held = { rows: held.rows + counted.rows, bytes: held.bytes + counted.bytes };
      }
      progress.rows = 0;
      progress.bytes = 0;
      report('remove', MIGRATED_TABLES.at(-1)?.name ?? '', held);
      for (const table of [...MIGRATED_TABLES].reverse()) {
        const counts = tables[table.name] as { removed: number };
        let after: Row | undefined;
        for (;;) {
          const rows = await destination.tables.scan(table, after, batchRows);
          if (rows.length === 0) break;
          after = rows[rows.length - 1];
          const kept = new Set((await source.tables.lookup(table, rows)).map((row) => keyOf(table, row)));
          const gone = rows.filter((row) => !kept.has(keyOf(table, row)));
          await destination.tables.remove(table, gone);
          counts.removed += gone.length;
          progress.rows += rows.length;
          report('remove', table.name, held);
        }
      }
      await source.tables.endSnapshot();
    }

    // 3. What derives from the objects: usage, and each bucket's bytes and objects.
    await destination.tables.recomputeDerived();

    const copySeconds = (Date.now() - started) / 1000;
    // 4. Verification: every object's bytes, read back from the destination.
    const verified = options.verify ? await verify(destination, store, concurrency, options.onProgress) : undefined;
    const ok = (!options.final || missingBlobs.length === 0) && (verified?.mismatches.length ?? 0) === 0;
    return {
      tables,
      blobs,
      missingBlobs,
      final: options.final,
      verified,
      openUploads,
      seconds: (Date.now() - started) / 1000,
      copySeconds,
      ok,
    };
  } finally {
    for (const side of opened.reverse()) await closeSide(side);
  }
}

/** Reads every row that names bytes back from the destination and compares size and sha256. */
async function verify(
  destination: Side,
  store: BlobStore,
  concurrency: number,
  onProgress: MigrateOptions['onProgress'],
): Promise<NonNullable<MigrateReport['verified']>> {
  const result = { objects: 0, bytes: 0, mismatches: [] as Array<{ table: string; key: string; problem: string }> };
  const checked = MIGRATED_TABLES.filter((table) => table.blob && table.columns.includes('sha256'));
  let total = { rows: 0, bytes: 0 };
  for (const table of checked) {
    const counted = await destination.tables.count(table);
    total = { rows: total.rows + counted.rows, bytes: total.bytes + counted.bytes };
  }
  for (const table of checked) {
    const blob = table.blob as NonNullable<MigratedTable['blob']>;
    let after: Row | undefined;
    for (;;) {
      const rows = await destination.tables.scan(table, after, BATCH_ROWS);
      if (rows.length === 0) break;
      after = rows[rows.length - 1];
      // A delete marker holds no value to check (its sha256 is empty); a composite value is
      // checked part by part, as the rows of manifest_parts.
      const values = rows.filter((row) => !Number(row.delete_marker ?? 0) && !isManifestId(row[blob.id] as string | null));
      await forEachLimited(values, concurrency, async (row) => {
        const size = Number(row[blob.size]);
        const blobId = row[blob.id];
        let held = 0;
        let sha256: string;
        try {
          [sha256, held] = await withRetries(async () => {
            const hash = createHash('sha256');
            let length = 0;
            if (typeof blobId === 'string' && size > 0) {
              const body = await store.read({ blobId, start: 0, end: size - 1, size });
              for await (const chunk of body) {
                hash.update(chunk as Buffer);
                length += (chunk as Buffer).length;
              }
            } else if (Buffer.isBuffer(row.inline_data)) {
              hash.update(row.inline_data);
              length = row.inline_data.length;
            }
            return [hash.digest('hex'), length] as const;
          });
          if (typeof blobId === 'string') result.bytes += held;
        } catch (error) {
          result.mismatches.push({ table: table.name, key: describeKey(table, row), problem: (error as Error).message });
          return;
        }
        if (held !== size)
          result.mismatches.push({ table: table.name, key: describeKey(table, row), problem: `holds ${held} bytes, not ${size}` });
        else if (sha256 !== row.sha256)
          result.mismatches.push({
            table: table.name,
            key: describeKey(table, row),
            problem: `sha256 ${sha256}, not ${String(row.sha256)}`,
          });
      });
      result.objects += values.length;
      onProgress?.({
        phase: 'verify',
        table: table.name,
        rows: result.objects,
        totalRows: total.rows,
        bytes: result.bytes,
        totalBytes: total.bytes,
      });
    }
  }
  return result;
}

async function openSide(endpoint: MigrateEndpoint, role: 'source' | 'destination', options: MigrateOptions): Promise<Side> {
  if (endpoint.kind === 'data-dir') {
    const { dataDir } = endpoint;
    const file = path.join(dataDir, 'index.sqlite');
    if (role === 'destination') {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      const lock = lockDataDir(dataDir, 'stowage migrate');
      try {
        // Creates (or brings up to date) the tables, as a server starting there would.
        const index = await SqliteIndex.open({ file, durability: 'full', defaultQuotaBytes: null, attributeLayout: { contentFields: [] } });
        await index.close();
        const store = await FileBlobStore.open({ dataDir, durability: 'full', disk: { minFreeBytes: 0, ballastBytes: 0 } });
        return { tables: SqliteTables.open(file), blobs: storeSource(store), store, lock };
      } catch (error) {
        lock.release();
        throw error;
      }
    }
    if (!existsSync(file)) throw new Error(`${dataDir} is no data directory: it has no index.sqlite`);
    // A source being served is read as it is (a snapshot per pass); the final pass needs it to itself.
    const lock = options.final ? lockDataDir(dataDir, 'stowage migrate --final') : undefined;
    try {
      // Brings the tables of a data directory an older version wrote up to date, as the admin
      // commands do (safe while a server serves it: it finds them up to date).
      const index = await SqliteIndex.open({ file, durability: 'full', defaultQuotaBytes: null, attributeLayout: { contentFields: [] } });
      // Holding the directory, the final pass settles what was deleted under retention into versions,
      // so that they are copied as versions (a pass beside a server copies them once its sweeper has).
      if (lock) await index.settleDeleted();
      await index.close();
      return { tables: SqliteTables.open(file), blobs: new DataDirBlobs(dataDir), store: undefined, lock };
    } catch (error) {
      lock?.release();
      throw error;
    }
  }
  const { S3BlobStore } = await import('../s3/s3-blob-store.js');
  const { blobs } = endpoint;
  const store = await S3BlobStore.open({
    bucket: blobs.bucket,
    prefix: blobs.prefix,
    endpoint: blobs.endpoint,
    region: blobs.region,
    forcePathStyle: blobs.forcePathStyle,
    credentials: blobs.credentials,
    timeoutMs: options.blobTimeoutMs ?? 30_000,
    // Nobody else feeds or reads these streams: a connection silent this long is dead.
    streamIdleTimeoutMs: options.blobTimeoutMs ?? 30_000,
  });
  try {
    if (role === 'destination') {
      // Creates (or migrates) the schema, as a server starting there would.
      const { PgIndex } = await import('../postgres/pg-index.js');
      const index = await PgIndex.open({
        connectionString: endpoint.index.url,
        schema: endpoint.index.schema,
        poolSize: 1,
        defaultQuotaBytes: null,
        attributeLayout: { contentFields: [] },
      });
      await index.close();
    }
    const tables = await PgTables.open(endpoint.index.url, endpoint.index.schema);
    return { tables, blobs: storeSource(store), store: role === 'destination' ? store : undefined, lock: undefined };
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function closeSide(side: Side): Promise<void> {
  await side.tables.close().catch(() => {});
  await side.blobs.close().catch(() => {});
  side.lock?.release();
}

function storeSource(store: BlobStore): BlobSource {
  return {
    read: (blobId, size) => store.read({ blobId, start: 0, end: size - 1, size }),
    close: () => store.close(),
  };
}

/**
 * The blob files of a data directory, read only: unlike FileBlobStore.open, nothing is cleared,
 * so a server may keep serving the directory meanwhile.
 */
class DataDirBlobs implements BlobSource {
  private readonly files: BlobFiles;

  constructor(dataDir: string) {
    this.files = new BlobFiles(dataDir, false);
  }

  async read(blobId: string, size: number): Promise<Readable> {
    const file = await this.files.openSized(blobId, size);
    if (size === 0) {
      await file.close();
      const { Readable } = await import('node:stream');
      return Readable.from([]);
    }
    return file.createReadStream({ highWaterMark: 1024 * 1024 });
  }

  async close(): Promise<void> {}
}

/** A key for messages: its columns, bytes as UTF-8 text. */
function describeKey(table: MigratedTable, row: Row): string {
  return table.key
    .map((column) => (Buffer.isBuffer(row[column]) ? (row[column] as Buffer).toString('utf8') : String(row[column])))
    .join('/');
}

/**
 * Runs `work` again when it fails, up to 3 times in all: copying a blob (to the same id, with the
 * same bytes) and reading one are safe to repeat, and a store that left one request hanging until
 * its timeout then answers the next.
 */
async function withRetries<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** Runs `work` over `items`, at most `limit` at once; the first failure rejects (after the others settle). */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}
