// Bytes on disk per stored 1 KiB object, as the server itself wrote them (after the PUT runs):
// index (with its WAL) plus blob files, over the objects the index counts.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Sqlite from 'better-sqlite3';

function bytesUnder(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += bytesUnder(full);
    else if (entry.isFile()) total += statSync(full).blocks * 512;
  }
  return total;
}

export function measureFootprint(ctx) {
  const dir = ctx.stowageDataDir;
  const db = new Sqlite(path.join(dir, 'index.sqlite'), { readonly: true, fileMustExist: true });
  const { objects, bytes } = db.prepare('SELECT COUNT(*) AS objects, COALESCE(SUM(size), 0) AS bytes FROM objects').get();
  db.close();
  let disk = 0;
  for (const name of ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm']) {
    try {
      disk += statSync(path.join(dir, name)).blocks * 512;
    } catch {
      // no such file
    }
  }
  disk += bytesUnder(path.join(dir, 'blobs'));
  const perObject = disk / objects;
  ctx.log(`footprint: ${objects} objects, ${bytes} bytes of values, ${disk} bytes on disk: ${perObject.toFixed(0)} bytes per object`);
  ctx.record({
    id: 'footprint',
    figure: `Bytes on disk per stored 1 KiB object (index + WAL + blobs, ${objects.toLocaleString('en-US')} objects written by the PUT runs)`,
    unit: 'B',
    values: { stowage: [perObject] },
    issues: [],
    info: true,
  });
}
