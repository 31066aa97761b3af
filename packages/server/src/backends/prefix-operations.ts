import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { Failpoint } from './../failpoints.js';
import type { ObjectInfo } from './backend.js';
import { prefixRange } from './key-range.js';
import { infoOf, type ObjectIndex, type RangeStep, type TransferOptions } from './object-index.js';

/** Rows one range delete removes per transaction: long enough to be quick, short enough not to stall other requests. */
const REMOVE_BATCH = 1000;
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

  async deletePrefix(tenant: string, type: string, prefix: string, now: number): Promise<{ objects: number; bytes: number }> {
    const range = { tenant, type, ...prefixRange(prefix) };
    const total = { objects: 0, bytes: 0 };
    await this.walk(range.start, async (start) => {
      const step = await this.index.removeRange({
        ...range,
        start,
        limit: REMOVE_BATCH,
        now,
        collectAfter: this.options.collectAfter(now),
      });
      total.objects += step.objects;
      total.bytes += step.bytes;
      return step;
    });
    return total;
  }

  async deleteMany(tenant: string, type: string, keys: readonly string[], now: number): Promise<Array<number | undefined>> {
    const sizes = await this.index.removeMany({ tenant, type, keys, now, collectAfter: this.options.collectAfter(now) });
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
    const range = { tenant: options.tenant, type: options.fromType, ...prefixRange(options.fromPrefix) };
    const result = { objects: 0, bytes: 0, skipped: 0, skippedKeys: [] as string[] };
    await this.walk(range.start, async (start) => {
      const step = await this.index.transferRange({
        range: { ...range, start },
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
      });
      result.objects += step.objects;
      result.bytes += step.bytes;
      result.skipped += step.skipped.length;
      result.skippedKeys.push(...step.skipped.slice(0, MAX_SKIPPED_KEYS - result.skippedKeys.length));
      return step;
    });
    return result;
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
