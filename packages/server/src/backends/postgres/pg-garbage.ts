import { type PgDb, type Queries, statement } from './pg-db.js';

/**
 * Whether a row names the blob: a current row or a noncurrent version kept for retention. The one
 * statement of what references a blob (the collector's check; KNOWN below lists the same tables).
 */
const REFERENCED = (blob: string) =>
  `(EXISTS (SELECT 1 FROM objects o WHERE o.blob_id = ${blob}) OR EXISTS (SELECT 1 FROM object_versions v WHERE v.blob_id = ${blob}))`;

const QUEUE = statement(
  'gc_queue',
  'INSERT INTO gc_queue (blob_id, due_at) SELECT blob_id, $2 FROM unnest($1::text[]) AS blob_id ON CONFLICT DO NOTHING',
);
// SKIP LOCKED: collectors on other servers take other rows instead of waiting for these. Copies
// share blobs: a due blob that a row still names is dropped from the queue instead of handed out
// (see ObjectIndex.takeGarbage); `referenced` says how many were, so the caller can ask again.
const TAKE = statement(
  'gc_take',
  `WITH due AS (
     SELECT q.blob_id, ${REFERENCED('q.blob_id')} AS referenced
     FROM gc_queue q WHERE q.due_at <= $1 ORDER BY q.due_at LIMIT $3 FOR UPDATE SKIP LOCKED
   ), dropped AS (
     DELETE FROM gc_queue WHERE blob_id IN (SELECT blob_id FROM due WHERE referenced) RETURNING blob_id
   ), leased AS (
     UPDATE gc_queue SET due_at = $2 WHERE blob_id IN (SELECT blob_id FROM due WHERE NOT referenced) RETURNING blob_id
   )
   SELECT blob_id, false AS referenced FROM leased UNION ALL SELECT blob_id, true FROM dropped`,
);
const FORGET = statement('gc_forget', 'DELETE FROM gc_queue WHERE blob_id = ANY($1::text[])');
// Upload sessions name their blobs inside the blob store's staging record (opaque JSON).
const KNOWN = statement(
  'gc_known',
  `SELECT blob_id FROM objects WHERE blob_id = ANY($1::text[])
   UNION SELECT blob_id FROM object_versions WHERE blob_id = ANY($1::text[])
   UNION SELECT blob_id FROM gc_queue WHERE blob_id = ANY($1::text[])
   UNION SELECT id FROM unnest($1::text[]) AS id WHERE EXISTS (SELECT 1 FROM uploads WHERE strpos(staging, id) > 0)`,
);

/** The queue of blobs to delete: filled in the transactions that drop their rows, drained by collectors under a lease. */
export class PgGarbage {
  constructor(private readonly db: PgDb) {}

  /** Queues blobs inside `tx` (the commit that stopped naming them), or on their own. */
  async queue(blobIds: readonly string[], collectAfter: number, tx: Queries = this.db): Promise<void> {
    if (blobIds.length === 0) return;
    await tx.run(QUEUE, [blobIds, collectAfter]);
  }

  async take({ now, limit, leaseMs }: { now: number; limit: number; leaseMs: number }): Promise<string[]> {
    const taken: string[] = [];
    for (let wanted = limit; wanted > 0; wanted = limit - taken.length) {
      const { rows } = await this.db.run<{ blob_id: string; referenced: boolean }>(TAKE, [now, now + leaseMs, wanted]);
      for (const row of rows) if (!row.referenced) taken.push(row.blob_id);
      if (rows.length < wanted) break;
    }
    return taken;
  }

  async forget(blobIds: readonly string[]): Promise<void> {
    if (blobIds.length === 0) return;
    await this.db.run(FORGET, [blobIds]);
  }

  async known(blobIds: readonly string[]): Promise<Set<string>> {
    if (blobIds.length === 0) return new Set();
    const { rows } = await this.db.run<{ blob_id: string }>(KNOWN, [blobIds]);
    return new Set(rows.map((row) => row.blob_id));
  }
}
