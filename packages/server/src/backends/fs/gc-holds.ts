import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from 'better-sqlite3';

/**
 * Holds on the garbage collector of the embedded index, one row per holder (a backup), each until
 * its lease ends. While one is current the collector takes no blob from its queue, so that every
 * blob a snapshot of the index names stays on disk while a backup copies it (the file store's
 * grace is 0: a replaced blob goes right after its row). A holder that dies leaves its row, which
 * stops counting once its lease ends.
 */
export const GC_HOLDS_SCHEMA = 'CREATE TABLE IF NOT EXISTS gc_holds (holder TEXT PRIMARY KEY, until INTEGER NOT NULL)';

/** One row when some hold is current at the time given as the one parameter. */
export const GC_HELD = 'SELECT 1 FROM gc_holds WHERE until > ? LIMIT 1';

/** A hold taken by this process; renewed by `renew`, gone with `release`. */
export interface GcHold {
  readonly holder: string;
  renew(now?: number): void;
  release(): void;
}

/**
 * Takes a hold on the collector of the index open in `db` (a connection of its own, beside the
 * server's), for `leaseMs` from now. Removes holds whose lease has ended on the way.
 */
export function holdCollector(db: Database, leaseMs: number, purpose: string, now = Date.now()): GcHold {
  db.exec(GC_HOLDS_SCHEMA);
  const holder = `${purpose} pid ${process.pid} on ${hostname()} ${randomBytes(4).toString('hex')}`;
  const upsert = db.prepare('INSERT INTO gc_holds (holder, until) VALUES (?, ?) ON CONFLICT (holder) DO UPDATE SET until = excluded.until');
  db.transaction(() => {
    db.prepare('DELETE FROM gc_holds WHERE until <= ?').run(now);
    upsert.run(holder, now + leaseMs);
  }).immediate();
  let released = false;
  return {
    holder,
    renew(at = Date.now()) {
      if (!released) upsert.run(holder, at + leaseMs);
    },
    release() {
      if (released) return;
      released = true;
      db.prepare('DELETE FROM gc_holds WHERE holder = ?').run(holder);
    },
  };
}
