import type { Database } from 'better-sqlite3';

interface PendingOperation {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for a synchronous SQLite connection. Operations enqueued during one turn of the
 * event loop run in a single transaction, so many concurrent writes share one WAL fsync instead
 * of blocking the loop on an fsync each. Each operation runs in its own savepoint: one that
 * throws is rolled back and rejected alone; the others still commit. Callers are acknowledged
 * only after the COMMIT that holds their change returned.
 */
export class CommitQueue {
  private pending: PendingOperation[] = [];
  private scheduled = false;
  private readonly runBatch: (batch: PendingOperation[]) => Array<{ ok: boolean; value: unknown }>;

  constructor(private readonly db: Database) {
    const runOne = db.transaction((op: PendingOperation) => op.run());
    this.runBatch = db.transaction((batch: PendingOperation[]) =>
      batch.map((op) => {
        try {
          return { ok: true, value: runOne(op) };
        } catch (error) {
          return { ok: false, value: error };
        }
      }),
    );
  }

  /** Runs `run` inside the next group transaction; resolves with its result once committed. */
  enqueue<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything pending now (also used at shutdown). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let results: Array<{ ok: boolean; value: unknown }>;
    try {
      results = this.runBatch(batch);
    } catch (error) {
      // The COMMIT itself failed (disk full, I/O error): nothing in the batch is durable.
      for (const op of batch) op.reject(error);
      return;
    }
    batch.forEach((op, i) => {
      const result = results[i];
      if (result?.ok) op.resolve(result.value);
      else op.reject(result?.value);
    });
  }
}
