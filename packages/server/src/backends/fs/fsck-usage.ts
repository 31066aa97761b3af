import type { Database } from 'better-sqlite3';
import { addFinding, type FsckContext } from './fsck-context.js';
import { ensureUsageTable, USAGE_FROM_OBJECTS } from './index-db.js';

interface Drift {
  tenant: string;
  actualBytes: number;
  actualObjects: number;
  recordedBytes: number;
  recordedObjects: number;
}

/**
 * Compares each tenant's recorded usage (what quotas are enforced against) with the sum over its
 * object rows. The server changes both in one transaction, so they only part when the index was
 * changed by other means (an older server version, a hand edit, a restored backup). One query
 * reads both in one snapshot, so a live server's writes never show as drift. --repair recomputes
 * the table.
 */
export function checkUsage(ctx: FsckContext): string | undefined {
  if (!usageTableExists(ctx.db)) {
    if (!ctx.repair) return 'the index has no usage table yet: the server creates it (from the objects) when it starts';
    ensureUsageTable(ctx.db);
  }
  const drifts = ctx.db
    .prepare(
      `SELECT COALESCE(actual.tenant, usage.tenant) AS tenant,
         COALESCE(actual.bytes, 0) AS actualBytes, COALESCE(actual.objects, 0) AS actualObjects,
         COALESCE(usage.bytes, 0) AS recordedBytes, COALESCE(usage.objects, 0) AS recordedObjects
       FROM (${USAGE_FROM_OBJECTS}) AS actual FULL OUTER JOIN usage ON actual.tenant = usage.tenant
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
    ctx.db.exec(`INSERT INTO usage (tenant, bytes, objects) ${USAGE_FROM_OBJECTS}`);
  })();
  for (const finding of findings) finding.repaired = 'recomputed from the objects';
  return undefined;
}

/** Removes what a dropped object row counted, in the same transaction as the drop. */
export function dropObjectRow(db: Database, drop: () => number, row: { tenant: string; size: number }): void {
  db.transaction(() => {
    if (drop() > 0 && usageTableExists(db)) {
      db.prepare('UPDATE usage SET bytes = bytes - ?, objects = objects - 1 WHERE tenant = ?').run(row.size, row.tenant);
    }
  })();
}

function usageTableExists(db: Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'usage'").pluck().get() !== undefined;
}
