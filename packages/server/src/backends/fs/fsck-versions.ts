import { addFinding, type FsckContext } from './fsck-context.js';
import { tableExists } from './fsck-usage.js';
import { refileVersions } from './index-db.js';

/** Filed versions (at or below the mark) that an order lacks, entries naming no such version, and a mark above every id. */
const DRIFT = `SELECT
    (SELECT COUNT(*) FROM object_versions v WHERE v.id <= m.through AND NOT EXISTS
      (SELECT 1 FROM version_keys k WHERE k.tenant = v.tenant AND k.type = v.type AND k.key = v.key AND k.id = v.id)) AS unkeyed,
    (SELECT COUNT(*) FROM version_keys k WHERE NOT EXISTS
      (SELECT 1 FROM object_versions v WHERE v.id = k.id AND v.tenant = k.tenant AND v.type = k.type AND v.key = k.key)) AS strayKeys,
    (SELECT COUNT(*) FROM object_versions v WHERE v.id <= m.through AND NOT EXISTS
      (SELECT 1 FROM version_purges p WHERE p.purge_after = v.purge_after AND p.id = v.id)) AS unpurgeable,
    (SELECT COUNT(*) FROM version_purges p WHERE NOT EXISTS
      (SELECT 1 FROM object_versions v WHERE v.id = p.id AND v.purge_after = p.purge_after)) AS strayPurges,
    m.through > (SELECT COALESCE(MAX(id), 0) FROM object_versions) AS markTooHigh
  FROM versions_filed m`;

interface Drift {
  unkeyed: number;
  strayKeys: number;
  unpurgeable: number;
  strayPurges: number;
  markTooHigh: number;
}

/**
 * Checks the versions' key and purge orders, which the index keeps by hand (index-db.ts,
 * addVersionKeys), against the versions: SQLite's integrity check covers its own indexes only.
 * A version missing from an order is invisible to listings and restores (or never purged), though
 * its value is intact. One query reads all in one snapshot, so a live server's writes never show.
 * --repair files both orders again from the versions.
 */
export function checkVersionOrders(ctx: FsckContext): void {
  if (!tableExists(ctx.db, 'versions_filed')) return;
  const drift = ctx.db.prepare(DRIFT).get() as Drift | undefined;
  const problems = drift
    ? [
        drift.unkeyed > 0 && `${drift.unkeyed} filed versions are missing from the key order`,
        drift.strayKeys > 0 && `${drift.strayKeys} entries of the key order name no version`,
        drift.unpurgeable > 0 && `${drift.unpurgeable} filed versions are missing from the purge order`,
        drift.strayPurges > 0 && `${drift.strayPurges} entries of the purge order name no version`,
        drift.markTooHigh > 0 && 'the filing mark is above every version id',
      ].filter((problem): problem is string => typeof problem === 'string')
    : ['the filing mark is missing'];
  if (problems.length === 0) return;
  const finding = addFinding(ctx, { kind: 'version-order-drift', file: 'index.sqlite', message: problems.join('; ') });
  if (!ctx.repair) return;
  ctx.db.transaction(() => refileVersions(ctx.db))();
  finding.repaired = 'both orders filed again from the versions';
}
