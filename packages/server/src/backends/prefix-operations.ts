import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { Failpoint } from './../failpoints.js';
import type { ObjectInfo } from './backend.js';
import { prefixRange } from './key-range.js';
import { infoOf, type ObjectIndex, type RangeStep, type TransferOptions, type VersionRow } from './object-index.js';
import { type PurgePiece, PurgeSchedule } from './purge-schedule.js';

/** Rows one range delete removes per transaction: long enough to be quick, short enough not to stall other requests. */
const REMOVE_BATCH = 1000;
/** Versions a prefix restore reads per page. */
const RESTORE_PAGE = 1000;
/** Rows one prefix copy or move handles per transaction. */
const TRANSFER_BATCH = 500;
/** Source keys a prefix copy or move names in its answer, of those it skipped. */
const MAX_SKIPPED_KEYS = 1000;

/** What a prefix copy or move did. */
export interface PrefixTransferResult {
  readonly objects: number;
  readonly bytes: number;
  readonly skipped: number;
  readonly skippedKeys: string[];
}

/** A copy or move of one key; the engine supplies the Last-Modified and the collection grace. */
export type TransferKeyOptions = Omit<TransferOptions, 'lastModified' | 'collectAfter'>;

export interface TransferPrefixOptions {
  readonly tenant: string;
  readonly fromType: string;
  readonly fromPrefix: string;
  readonly toType: string;
  readonly toPrefix: string;
  readonly move: boolean;
  readonly overwrite: boolean;
  readonly now: number;
  /** Each destination's expiry when its source has none, by its key. */
  readonly expiresAtIfNone: (destinationKey: string) => number | null;
  /** Retention of the destinations (by their keys) and of a move's sources (see TransferOptions). */
  readonly purge?: PurgeSchedule | undefined;
  readonly sourcePurge?: PurgeSchedule | undefined;
}

export interface RestorePrefixOptions {
  readonly tenant: string;
  readonly type: string;
  readonly prefix: string;
  /** The instant whose state is put back (ms). */
  readonly at: number;
  readonly now: number;
  /** Current rows the restore replaces or deletes are kept as versions until their key's instant (`now` when none). */
  readonly purge: PurgeSchedule;
  /** Asked before each key is changed; false leaves the key as it is (counted in `skipped`). */
  readonly mayChange?: ((key: string) => boolean) | undefined;
}

export interface RestorePrefixResult {
  /** Keys given back the value they had at `at`. */
  readonly restored: number;
  /** Keys that did not exist at `at`, deleted (kept as versions). */
  readonly deleted: number;
  /** Keys already as they were at `at`. */
  readonly unchanged: number;
  /** Keys left alone: `mayChange` refused them, or their version was purged meanwhile. */
  readonly skipped: number;
}

/**
 * Which of a key's versions (newest first) was current at `at`: the newest that became current
 * at or before `at`, if it is a value that had not stopped being current (nor expired) by then.
 */
export function versionAt(versions: readonly VersionRow[], at: number): VersionRow | undefined {
  const found = versions.find((version) => version.since <= at);
  if (!found || found.deleteMarker) return undefined;
  if (found.stoppedAt !== undefined && found.stoppedAt <= at) return undefined;
  if (found.row.expiresAt !== null && found.row.expiresAt <= at) return undefined;
  return found;
}

/**
 * Operations on many keys at once, as index transactions that never touch a blob's bytes: a
 * prefix is walked in key order a batch at a time, each batch one transaction, so other
 * requests are served between batches and a crash leaves each key done or untouched (a
 * retry finishes the job). Blobs are shared by reference and collected when their last row goes.
 */
export class PrefixOperations {
  constructor(
    private readonly index: ObjectIndex,
    private readonly options: {
      readonly clock: () => number;
      readonly failpoint: Failpoint;
      readonly collectAfter: (now: number) => number;
      readonly afterCommit: () => void;
    },
  ) {}

  async deletePrefix(
    tenant: string,
    type: string,
    prefix: string,
    now: number,
    purge: PurgeSchedule = PurgeSchedule.none,
  ): Promise<{ objects: number; bytes: number }> {
    const total = { objects: 0, bytes: 0 };
    // A piece per purge instant (lifecycle rules under the prefix): one statement per batch keeps its rows with one.
    await this.walkPieces(prefix, [purge], async (start, piece) => {
      const step = await this.index.removeRange({
        tenant,
        type,
        start,
        end: piece.end,
        limit: REMOVE_BATCH,
        now,
        collectAfter: this.options.collectAfter(now),
        purgeAfter: piece.purgeAfter[0],
      });
      total.objects += step.objects;
      total.bytes += step.bytes;
      return step;
    });
    return total;
  }

  async deleteMany(
    tenant: string,
    type: string,
    keys: readonly string[],
    now: number,
    purge: PurgeSchedule = PurgeSchedule.none,
  ): Promise<Array<number | undefined>> {
    const sizes = await this.index.removeMany({
      tenant,
      type,
      keys,
      now,
      collectAfter: this.options.collectAfter(now),
      purgeAfter: (key) => purge.at(key),
    });
    this.options.afterCommit();
    return sizes;
  }

  countPrefix(tenant: string, type: string, prefix: string, now: number): Promise<{ objects: number; bytes: number }> {
    return this.index.countRange({ tenant, type, ...prefixRange(prefix), now });
  }

  async transferKey(options: TransferKeyOptions): Promise<ObjectInfo> {
    const row = await this.index.transfer({
      ...options,
      lastModified: options.move ? undefined : this.options.clock(),
      collectAfter: this.options.collectAfter(options.now),
    });
    this.options.afterCommit();
    return infoOf(row);
  }

  async transferPrefix(options: TransferPrefixOptions): Promise<PrefixTransferResult> {
    const range = { tenant: options.tenant, type: options.fromType };
    const result = { objects: 0, bytes: 0, skipped: 0, skippedKeys: [] as string[] };
    const destinations = (options.purge ?? PurgeSchedule.none).seenFrom(options.fromPrefix, options.toPrefix);
    const sources = options.sourcePurge ?? PurgeSchedule.none;
    await this.walkPieces(options.fromPrefix, [destinations, sources], async (start, piece) => {
      const step = await this.index.transferRange({
        range: { ...range, start, end: piece.end },
        fromPrefix: options.fromPrefix,
        toType: options.toType,
        toPrefix: options.toPrefix,
        limit: TRANSFER_BATCH,
        move: options.move,
        overwrite: options.overwrite,
        now: options.now,
        lastModified: options.move ? undefined : this.options.clock(),
        expiresAtIfNone: options.expiresAtIfNone,
        collectAfter: this.options.collectAfter(options.now),
        purgeAfter: piece.purgeAfter[0],
        sourcePurgeAfter: piece.purgeAfter[1],
      });
      result.objects += step.objects;
      result.bytes += step.bytes;
      result.skipped += step.skipped.length;
      result.skippedKeys.push(...step.skipped.slice(0, MAX_SKIPPED_KEYS - result.skippedKeys.length));
      return step;
    });
    return result;
  }

  /**
   * Puts every key under a prefix back as it was at `at`: reads the prefix's versions a page at a
   * time (by key, newest first) and, per key, makes the version current at `at` current again, or
   * deletes the key when it had none then; a key already as it was is left alone. Each key is one
   * transaction, and what was current before is kept as a version, so the restore itself can be
   * undone; running it again (after a crash) finds the keys done so far as they were and finishes.
   */
  async restorePrefix(options: RestorePrefixOptions): Promise<RestorePrefixResult> {
    const range = { tenant: options.tenant, type: options.type, ...prefixRange(options.prefix) };
    const result = { restored: 0, deleted: 0, unchanged: 0, skipped: 0 };
    let after: { key: Buffer; seq: number } | undefined;
    let pending: VersionRow[] = [];
    for (;;) {
      const page = await this.index.listVersions({ ...range, after, limit: RESTORE_PAGE, now: options.now });
      const last = page.at(-1);
      const done = page.length < RESTORE_PAGE || !last;
      const rows = [...pending, ...page];
      // The last key of a full page may have more versions on the next one.
      const cut = done ? rows.length : rows.findIndex((row) => row.key === last.key);
      for (let i = 0; i < cut; ) {
        let j = i;
        while (j < cut && rows[j]?.key === rows[i]?.key) j++;
        await this.restoreKey(options, rows.slice(i, j), result);
        i = j;
      }
      pending = rows.slice(cut);
      this.options.failpoint('batch.after-step');
      this.options.afterCommit();
      if (done) break;
      after = { key: Buffer.from(last.key, 'utf8'), seq: last.seq };
      await yieldToIo();
    }
    return result;
  }

  private async restoreKey(options: RestorePrefixOptions, versions: VersionRow[], result: Record<keyof RestorePrefixResult, number>) {
    const key = versions[0]?.key as string;
    const ref = { tenant: options.tenant, type: options.type, key };
    const current = versions.find((version) => version.current);
    const wanted = versionAt(versions, options.at);
    if (wanted?.current || (!wanted && !current)) {
      result.unchanged++;
      return;
    }
    if (options.mayChange && !options.mayChange(key)) {
      result.skipped++;
      return;
    }
    const collectAfter = this.options.collectAfter(options.now);
    const purgeAfter = options.purge.at(key) ?? options.now;
    if (!wanted) {
      // The key did not exist at `at`: delete what is there now, unless a write replaced it since the listing.
      try {
        await this.index.remove({
          ref,
          now: options.now,
          condition: { ifMatch: [`"${current?.row.sha256}"`] },
          collectAfter,
          purgeAfter,
        });
        result.deleted++;
      } catch (error) {
        if ((error as { code?: string }).code !== 'PreconditionFailed') throw error;
        result.skipped++;
      }
      return;
    }
    const before = current ? infoOf(current.row).etag : undefined;
    try {
      const row = await this.index.restoreVersion({
        ref,
        versionId: wanted.versionId,
        now: options.now,
        purgeAfter,
        collectAfter,
        // Unless a write came since the listing: that write stays (the key is skipped).
        ifCurrent: current ? current.versionId : null,
      });
      if (before !== undefined && infoOf(row).etag === before && row.versionId === current?.versionId) result.unchanged++;
      else result.restored++;
    } catch (error) {
      // Purged between the listing and the restore (it was at the end of the window), or written meanwhile.
      const code = (error as { code?: string }).code;
      if (code !== 'NoSuchVersion' && code !== 'PreconditionFailed') throw error;
      result.skipped++;
    }
  }

  /**
   * Walks the range of `prefix` piece by piece (PurgeSchedule.pieces of `schedules`), each from its
   * start in batches, so that every batch has one purge instant per schedule.
   */
  private async walkPieces(
    prefix: string,
    schedules: readonly PurgeSchedule[],
    batch: (start: Buffer, piece: PurgePiece) => Promise<RangeStep>,
  ): Promise<void> {
    const { start, end } = prefixRange(prefix);
    for (const piece of PurgeSchedule.pieces(start, end, schedules)) await this.walk(piece.start, (from) => batch(from, piece));
  }

  /** Runs batches from `start` until one says it was the last; lets other work run between them. */
  private async walk(start: Buffer, batch: (start: Buffer) => Promise<RangeStep>): Promise<void> {
    for (let next: Buffer | undefined = start; next; ) {
      next = (await batch(next)).next;
      this.options.failpoint('batch.after-step');
      this.options.afterCommit();
      if (next) await yieldToIo();
    }
  }
}
