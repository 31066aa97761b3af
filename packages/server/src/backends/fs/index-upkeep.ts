import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';
import type { Durability } from '../../config.js';
import { ANY_UNFILED, FILING_STATEMENTS } from './index-db.js';

/** Slots of the state both threads share (Int32Array over a SharedArrayBuffer). */
const COMMITS = 0;
const WRITING = 1;
const SLOTS = 2;

/**
 * WAL frames (pages) past which the thread copies the rest with the write lock held, so that the
 * WAL starts over (4,096 pages is 16 MiB of WAL): only when no more than RESTART_REST are left to
 * copy, since a reader in the WAL (a backup's long read) keeps a checkpoint from copying past it,
 * and a restart would hold the lock waiting for it.
 */
const RESTART_FRAMES = 4096;
const RESTART_REST = 512;
/**
 * The thread checkpoints after CHECKPOINT_COMMITS commits, or CHECKPOINT_AFTER_MS after a commit
 * if fewer came (as often as SQLite's own every 1,000 pages, about: each checkpoint syncs both
 * files, which the commits' own syncs then wait behind); it looks every LOOK_MS.
 */
const CHECKPOINT_COMMITS = 24;
const CHECKPOINT_AFTER_MS = 250;
/** How often the thread looks while commits come, and while none came. */
const LOOK_MS = 5;
const IDLE_LOOK_MS = 50;
/** How long closing waits for the thread (an fsync on a hung disk) before it is terminated. */
const CLOSE_WAIT_MS = 5_000;
/** SQLite's own checkpoint interval (pages), for a connection whose thread is gone. */
const SQLITE_AUTOCHECKPOINT = 1000;
const WARN_EVERY_MS = 60_000;
/**
 * How long the thread waits for the write lock, or for readers to leave the WAL (a backup's long
 * read): the main thread's commits wait meanwhile, so not long; a checkpoint that gives up is tried
 * again at the next pass.
 */
const LOCK_WAIT_MS = 100;

// The thread's code, evaluated as CommonJS: no file to locate next to this module (dist or src).
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Sqlite = require(workerData.driver);
const state = new Int32Array(workerData.state);
const db = new Sqlite(workerData.file);
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('busy_timeout = ${LOCK_WAIT_MS}');
db.pragma('wal_autocheckpoint = 0');
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)');
const anyUnfiled = db.prepare(workerData.anyUnfiled).pluck();
const filing = workerData.filing.map((sql) => db.prepare(sql));
const fileAll = db.transaction(() => {
  if (anyUnfiled.get() === undefined) return;
  for (const statement of filing) statement.run();
});
/**
 * Runs \`work\` with the write lock, which the main thread's commits wait for without blocking
 * (WRITING); whether it succeeded (a failure is reported).
 */
function holdingLock(what, work) {
  Atomics.store(state, ${WRITING}, 1);
  try {
    work();
    return true;
  } catch (error) {
    report(what, error);
    return false;
  } finally {
    Atomics.store(state, ${WRITING}, 0);
  }
}
// At most one warning a minute of each kind: a full disk fails every checkpoint until it is freed.
const reported = new Map();
const report = (what, error) => {
  const now = Date.now();
  if (now - (reported.get(what) ?? -Infinity) < ${WARN_EVERY_MS}) return;
  reported.set(what, now);
  parentPort.postMessage({ what, message: String((error && error.message) || error) });
};
let seen = 0;
let firstUnseenAt;
let timer;
/** A filing that failed (the lock not had in time, a full disk), tried again at each look. */
let filingDue = false;
function file() {
  filingDue = !holdingLock('filing', () => fileAll.immediate());
}
function look() {
  if (filingDue) file();
  const commits = Atomics.load(state, ${COMMITS});
  if (commits !== seen) {
    const now = Date.now();
    firstUnseenAt ??= now;
    if (commits - seen >= ${CHECKPOINT_COMMITS} || now - firstUnseenAt >= ${CHECKPOINT_AFTER_MS}) {
      seen = commits;
      firstUnseenAt = undefined;
      try {
        // Copying while commits go on, the thread seldom finds the WAL all copied, which SQLite
        // needs to start it over: once it is long, the few pages written meanwhile are copied
        // with the write lock held.
        const copied = checkpoint.get();
        if (copied.log >= ${RESTART_FRAMES} && copied.log - copied.checkpointed <= ${RESTART_REST})
          holdingLock('checkpoint', () => restart.get());
      } catch (error) {
        report('checkpoint', error);
      }
    }
  }
  timer = setTimeout(look, commits === seen && !filingDue ? ${IDLE_LOOK_MS} : ${LOOK_MS});
}
look();
parentPort.on('message', (message) => {
  if (message === 'file') file();
  else if (message === 'close') {
    clearTimeout(timer);
    db.close();
    parentPort.close();
  }
});
`;

/**
 * The embedded index's upkeep, on a thread and a connection of its own, so that the event loop
 * does not do it between requests:
 * - checkpoints: copying the WAL's pages into the database file, and that file's fsync, which
 *   takes milliseconds once the file grows (every page it gains is new to the file system);
 * - the filing of the versions' key and purge orders (sqlite-versions.ts), every FILING_BATCH
 *   versions written.
 * Checkpoints take the write lock only to let the WAL start over, and a filing takes it: for
 * milliseconds, while which the commit queue waits a turn (`writing`) instead of blocking the
 * event loop on SQLite's busy handler.
 */
export class IndexUpkeep {
  private readonly state = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
  private readonly worker: Worker;
  private closed: Promise<void> | undefined;
  private exited = false;

  constructor(db: Database, file: string, durability: Durability, onWarning: (message: string, error: unknown) => void) {
    // The thread checkpoints instead: none in a commit of this connection.
    db.pragma('wal_autocheckpoint = 0');
    this.worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        file,
        synchronous: durability === 'full' ? 'FULL' : 'NORMAL',
        anyUnfiled: ANY_UNFILED,
        filing: FILING_STATEMENTS,
        state: this.state.buffer,
      },
    });
    // The thread's timers must not keep a process up that has nothing else to do.
    this.worker.unref();
    this.worker.on('message', ({ what, message }: { what: string; message: string }) =>
      onWarning(`the index upkeep thread's ${what} failed; it tries again`, new Error(message)),
    );
    this.worker.on('error', (error) => onWarning('the index upkeep thread stopped', error));
    this.worker.on('exit', (code) => {
      this.exited = true;
      if (this.closed) return;
      // Not asked to: checkpoints go back into the commits, filings too (file), and no commit
      // waits for a lock the thread can no longer hold.
      Atomics.store(this.state, WRITING, 0);
      try {
        db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT}`);
      } catch {
        // The connection is closing.
      }
      onWarning('the index upkeep thread exited: checkpoints and filings are back in the commits', new Error(`exit code ${code}`));
    });
  }

  /** Whether the thread holds the write lock now (or is about to): a commit would wait for it. */
  get writing(): boolean {
    return Atomics.load(this.state, WRITING) === 1;
  }

  /** After each commit of the main connection: when to checkpoint. */
  committed(): void {
    Atomics.add(this.state, COMMITS, 1);
  }

  /** Files the versions not yet filed, on the thread; false if it is gone (the caller files them). */
  file(): boolean {
    if (this.exited || this.closed) return false;
    this.worker.postMessage('file');
    return true;
  }

  /** Stops the thread once its work in hand is done; the main connection closes after it. */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      this.worker.ref();
      const stuck = setTimeout(() => void this.worker.terminate(), CLOSE_WAIT_MS);
      this.worker.once('exit', () => {
        clearTimeout(stuck);
        resolve();
      });
      this.worker.postMessage('close');
    });
    return this.closed;
  }
}
