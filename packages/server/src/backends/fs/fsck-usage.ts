import type { Database } from 'better-sqlite3';
import { isNamedBucket } from '../buckets.js';
import { bucketCountersOfRows } from '../derived-counters.js';
import { addFinding, type FsckContext } from './fsck-context.js';
import { countedRows, ensureUsageTable, usageFromObjects } from './index-db.js';

interface BucketDrift {
  name: string;
  owner: string;
  actualBytes: number;
  actualObjects: number;
  recordedBytes: number;
  recordedObjects: number;
}

/** Each named bucket's bytes and objects over the rows of (owner, name) that count, beside what its row records. */
const bucketsWithActual = (counted: string) => `SELECT b.name, b.owner, b.bytes AS recordedBytes, b.objects AS recordedObjects,
    (SELECT COALESCE(SUM(size), 0) FROM objects WHERE tenant = b.owner AND type = b.name AND ${counted}) AS actualBytes,
    (SELECT COUNT(*) FROM objects WHERE tenant = b.owner AND type = b.name AND ${counted}) AS actualObjects
  FROM buckets b`;

interface Drift {
  tenant: string;
  actualBytes: number;
  actualObjects: number;
  recordedBytes: number;
  recordedObjects: number;
}

/**
 * Compares each tenant's recorded usage (what quotas are enforced against) with the sum over its
 * object rows, and each named bucket's likewise. The server changes both in one transaction, so
 * they only part when the index was changed by other means (an older server version, a hand edit,
 * a restored backup). One query reads both in one snapshot, so a live server's writes never show
 * as drift. --repair recomputes them.
 */
export function checkUsage(ctx: FsckContext): string | undefined {
  checkBucketUsage(ctx);
  if (!usageTableExists(ctx.db)) {
    if (!ctx.repair) return 'the index has no usage table yet: the server creates it (from the objects) when it starts';
    ensureUsageTable(ctx.db);
  }
  const drifts = ctx.db
    .prepare(
      `SELECT COALESCE(actual.tenant, usage.tenant) AS tenant,
         COALESCE(actual.bytes, 0) AS actualBytes, COALESCE(actual.objects, 0) AS actualObjects,
         COALESCE(usage.bytes, 0) AS recordedBytes, COALESCE(usage.objects, 0) AS recordedObjects
       FROM (${usageFromObjects(ctx.db)}) AS actual FULL OUTER JOIN usage ON actual.tenant = usage.tenant
       WHERE COALESCE(actual.bytes, 0) != COALESCE(usage.bytes, 0) OR COALESCE(actual.objects, 0) != COALESCE(usage.objects, 0)`,
    )
    .all() as Drift[];
  const findings = drifts.map((drift) =>
    addFinding(ctx, {
      kind: 'usage-drift',
      message:
        `user ${JSON.stringify(drift.tenant)} is recorded with ${drift.recordedBytes} bytes in ${drift.recordedObjects} objects, ` +
        `its objects hold ${drift.actualBytes} bytes in ${drift.actualObjects}`,
    }),
  );
  if (!ctx.repair || findings.length === 0) return undefined;
  ctx.db.transaction(() => {
    ctx.db.exec('DELETE FROM usage');
    ctx.db.exec(`INSERT INTO usage (tenant, bytes, objects) ${usageFromObjects(ctx.db)}`);
  })();
  for (const finding of findings) finding.repaired = 'recomputed from the objects';
  return undefined;
}

/** The named buckets' part of checkUsage: each bucket's row against its objects' rows. */
function checkBucketUsage(ctx: FsckContext): void {
  if (!tableExists(ctx.db, 'buckets')) return;
  const drifts = ctx.db
    .prepare(
      `SELECT * FROM (${bucketsWithActual(countedRows(ctx.db))})
       WHERE actualBytes != recordedBytes OR actualObjects != recordedObjects ORDER BY name`,
    )
    .all() as BucketDrift[];
  const findings = drifts.map((drift) =>
    addFinding(ctx, {
      kind: 'usage-drift',
      message:
        `bucket ${drift.name} (of ${JSON.stringify(drift.owner)}) is recorded with ${drift.recordedBytes} bytes in ${drift.recordedObjects} objects, ` +
        `its objects hold ${drift.actualBytes} bytes in ${drift.actualObjects}`,
    }),
  );
  if (!ctx.repair || findings.length === 0) return;
  ctx.db.exec(bucketCountersOfRows(countedRows(ctx.db)));
  for (const finding of findings) finding.repaired = 'recomputed from the objects';
}

/** Removes what a dropped object row counted (its tenant's, its bucket's), in the same transaction as the drop. */
export function dropObjectRow(db: Database, drop: () => number, row: { tenant: string; type: string; size: number }): void {
  db.transaction(() => {
    if (drop() === 0) return;
    if (usageTableExists(db)) {
      db.prepare('UPDATE usage SET bytes = bytes - ?, objects = objects - 1 WHERE tenant = ?').run(row.size, row.tenant);
    }
    if (isNamedBucket(row.type) && tableExists(db, 'buckets')) {
      db.prepare('UPDATE buckets SET bytes = bytes - ?, objects = objects - 1 WHERE name = ? AND owner = ?').run(
        row.size,
        row.type,
        row.tenant,
      );
    }
  })();
}

function usageTableExists(db: Database): boolean {
  return tableExists(db, 'usage');
}

/** Whether the database has the table (one an older version made lacks the newer ones). */
export function tableExists(db: Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck().get(name) !== undefined;
}
