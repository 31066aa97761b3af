import type { Database, Transaction } from 'better-sqlite3';

/** Another writer of the same database, which the queue makes room for (index-upkeep.ts). */
export interface CommitNeighbour {
  /** Whether it holds the write lock now: a commit started now would block the event loop. */
  readonly writing: boolean;
  /** Called after each commit. */
  committed(): void;
}

/**
 * How long a batch waits for the neighbour's write lock before it looks again, and for how long in
 * all before it commits anyway (waiting in SQLite's busy handler).
 */
const NEIGHBOUR_WAIT_MS = 1;
const NEIGHBOUR_WAIT_LIMIT_MS = 1_000;

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
  private readonly runBatch: Transaction<(batch: PendingOperation[]) => Array<{ ok: boolean; value: unknown }>>;

  constructor(
    private readonly db: Database,
    private readonly neighbour?: CommitNeighbour | undefined,
  ) {
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
        setImmediate(() => this.flushUnlessBusy());
      }
    });
  }

  /** flush, or, while the neighbour writes, again a moment later (more operations join the batch meanwhile). */
  private flushUnlessBusy(waitingSince?: number): void {
    const since = this.neighbour?.writing ? (waitingSince ?? performance.now()) : undefined;
    if (since === undefined || performance.now() - since >= NEIGHBOUR_WAIT_LIMIT_MS) this.flush();
    else setTimeout(() => this.flushUnlessBusy(since), NEIGHBOUR_WAIT_MS);
  }

  /** Commits everything pending now (also used at shutdown). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let results: Array<{ ok: boolean; value: unknown }>;
    try {
      // IMMEDIATE: the write lock before the first read, so that a neighbour's commit cannot
      // outdate what the batch read (SQLITE_BUSY_SNAPSHOT, which no busy handler waits out).
      results = this.runBatch.immediate(batch);
    } catch (error) {
      // The COMMIT itself failed (disk full, I/O error): nothing in the batch is durable.
      for (const op of batch) op.reject(error);
      return;
    }
    this.neighbour?.committed();
    batch.forEach((op, i) => {
      const result = results[i];
      if (result?.ok) op.resolve(result.value);
      else op.reject(result?.value);
    });
  }
}
