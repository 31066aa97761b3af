#!/usr/bin/env node
// Data set generator for the listing, iterList and start-up scenarios: COUNT objects of 1 KiB,
// keys ds/0000000, ds/0000001, … of one user, loaded DIRECTLY into the SQLite index of a stopped
// data directory (one transaction per 50,000 rows, values inline as the server keeps objects of
// this size). It does not go through the server: it is fast, and the rows are what the server
// would have written, but the index pages are packed in key order rather than grown by random
// inserts, and no blob files exist.
//
//   node bench/dataset.mjs --data-dir DIR --count 1000000 [--user bench] [--type data]
//
// DIR must have been made by the server (start `stowage serve --data-dir DIR` once and stop it),
// so that the schema is the server's own; the generator checks the columns it writes and holds
// the data directory's lock while it loads, so no server can start on it meanwhile.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Sqlite from 'better-sqlite3';

const COLUMNS = ['id', 'tenant', 'type', 'key', 'size', 'sha256', 'content_type', 'last_modified', 'expires_at', 'blob_id', 'inline_data'];
const BATCH = 50_000;

/** The key of row i: fixed width, so byte order is numeric order and ds/NNNN names a page of 1000. */
export function datasetKey(i) {
  return `ds/${String(i).padStart(7, '0')}`;
}

/** Takes the data directory's lock as the server does (an exclusive SQLite transaction on lock.sqlite). */
function lockDataDir(dataDir) {
  const db = new Sqlite(path.join(dataDir, 'lock.sqlite'), { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    throw new Error(`${dataDir} is in use by a Stowage process: stop it before loading (${error.message})`);
  }
  return () => db.close();
}

/** Loads `count` objects; resolves { inserted, seconds, indexBytes }. */
export function loadDataset({ dataDir, count, user = 'bench', type = 'data', log = () => {} }) {
  const release = lockDataDir(dataDir);
  const db = new Sqlite(path.join(dataDir, 'index.sqlite'), { fileMustExist: true });
  try {
    const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('objects');
    const usage = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'usage'").pluck().get();
    if (COLUMNS.some((name) => !columns.includes(name)) || !usage) {
      throw new Error(
        `${dataDir}/index.sqlite lacks the objects/usage schema this generator writes (objects has: ${columns.join(', ')}); start and stop the server on it once first`,
      );
    }
    const started = process.hrtime.bigint();
    db.pragma('synchronous = OFF');
    const value = Buffer.alloc(1024);
    for (let i = 0; i < value.length; i++) value[i] = (i * 31 + 7) & 0xff;
    const sha256 = createHash('sha256').update(value).digest('hex');
    const now = Date.now();
    const insert = db.prepare(
      `INSERT INTO objects (tenant, type, key, size, sha256, content_type, last_modified, expires_at, blob_id, inline_data)
       VALUES (?, ?, ?, ?, ?, 'application/octet-stream', ?, NULL, NULL, ?) ON CONFLICT (tenant, type, key) DO NOTHING`,
    );
    const addUsage = db.prepare(
      `INSERT INTO usage (tenant, bytes, objects) VALUES (?, ?, ?)
       ON CONFLICT (tenant) DO UPDATE SET bytes = bytes + excluded.bytes, objects = objects + excluded.objects`,
    );
    const batch = db.transaction((from, to) => {
      let inserted = 0;
      for (let i = from; i < to; i++)
        inserted += insert.run(user, type, Buffer.from(datasetKey(i), 'utf8'), value.length, sha256, now, value).changes;
      if (inserted > 0) addUsage.run(user, inserted * value.length, inserted);
      return inserted;
    });
    let inserted = 0;
    for (let from = 0; from < count; from += BATCH) {
      inserted += batch(from, Math.min(count, from + BATCH));
      if ((from / BATCH) % 4 === 3)
        log(`dataset: ${Math.min(count, from + BATCH).toLocaleString('en-US')} of ${count.toLocaleString('en-US')} rows`);
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const indexBytes = db.prepare('SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()').pluck().get();
    return { inserted, seconds, indexBytes };
  } finally {
    db.close();
    release();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const option = (name, fallback) => {
    const at = process.argv.indexOf(`--${name}`);
    return at === -1 ? fallback : process.argv[at + 1];
  };
  const dataDir = option('data-dir');
  const count = Number(option('count', '1000000'));
  if (!dataDir || !Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: node bench/dataset.mjs --data-dir DIR --count N [--user bench] [--type data]\n');
    process.exit(2);
  }
  const result = loadDataset({
    dataDir,
    count,
    user: option('user', 'bench'),
    type: option('type', 'data'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
