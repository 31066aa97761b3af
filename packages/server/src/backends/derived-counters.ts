/**
 * What the index derives from its object rows, as SQL for SQLite and PostgreSQL alike: each
 * tenant's usage and each named bucket's bytes and objects, over the rows `counted` (an SQL
 * condition on `objects`) selects. fsck --repair and `stowage migrate` recompute them with these.
 */

/** Bytes and object count per tenant: columns `tenant`, `bytes`, `objects`. */
export function usageOfRows(counted: string): string {
  return `SELECT tenant, SUM(size) AS bytes, COUNT(*) AS objects FROM objects WHERE ${counted} GROUP BY tenant`;
}

/** Sets every named bucket's bytes and objects from its rows. */
export function bucketCountersOfRows(counted: string): string {
  const rows = `FROM objects WHERE tenant = buckets.owner AND type = buckets.name AND ${counted}`;
  return `UPDATE buckets SET bytes = COALESCE((SELECT SUM(size) ${rows}), 0), objects = (SELECT COUNT(*) ${rows})`;
}
