import { prefixUpperBound } from './key-range.js';

/** A retention of its own for the keys under a prefix (S3's NoncurrentVersionExpiration with a Filter). */
export interface PrefixRetention {
  readonly prefix: string;
  /** How long a replaced value at such a key is kept (ms, above 0). */
  readonly ms: number;
}

/** A piece of a key range over which every key's purge instant is the same. */
export interface PurgePiece {
  readonly start: Buffer;
  readonly end: Buffer;
  /** Each schedule's instant for the piece's keys, in the order the schedules were given. */
  readonly purgeAfter: ReadonlyArray<number | undefined>;
}

interface ByteRule {
  readonly prefix: Buffer;
  readonly ms: number;
}

/**
 * When the values that writes made at one instant replace or delete are purged, key by key: after
 * the bucket's window, or, for a key under prefix rules, after the shortest of theirs (S3 applies
 * the shortest of overlapping rules). A window of 0 (retention off, versioning suspended) keeps
 * nothing, whatever the rules: a rule sets how long a kept value lives, not whether it is kept.
 */
export class PurgeSchedule {
  /** Nothing is kept. */
  static readonly none = new PurgeSchedule(0, [], 0);

  private readonly rules: readonly ByteRule[];

  constructor(
    private readonly windowMs: number,
    rules: ReadonlyArray<PrefixRetention | ByteRule>,
    private readonly now: number,
  ) {
    this.rules = rules.map((rule) => ({ prefix: Buffer.from(rule.prefix), ms: rule.ms }));
  }

  /** The purge instant of a value replaced or deleted at `key`; undefined when none is kept. */
  at(key: string | Buffer): number | undefined {
    if (this.windowMs <= 0) return undefined;
    if (this.rules.length === 0) return this.now + this.windowMs;
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    let ms: number | undefined;
    for (const rule of this.rules) if (startsWith(bytes, rule.prefix)) ms = Math.min(ms ?? rule.ms, rule.ms);
    return this.now + (ms ?? this.windowMs);
  }

  /**
   * This schedule as it applies to the destinations of a prefix copy or move, in the keys of its
   * source: the source key `fromPrefix + rest` is written at `toPrefix + rest`.
   */
  seenFrom(fromPrefix: string, toPrefix: string): PurgeSchedule {
    const from = Buffer.from(fromPrefix, 'utf8');
    const to = Buffer.from(toPrefix, 'utf8');
    const rules = this.rules.flatMap((rule) => {
      // A rule over all of toPrefix covers every destination; one inside it, the sources of its part.
      if (startsWith(to, rule.prefix)) return [{ prefix: from, ms: rule.ms }];
      if (startsWith(rule.prefix, to)) return [{ prefix: Buffer.concat([from, rule.prefix.subarray(to.length)]), ms: rule.ms }];
      return [];
    });
    return new PurgeSchedule(this.windowMs, rules, this.now);
  }

  /** Where, strictly inside [start, end), the purge instant may change. */
  private cuts(start: Buffer, end: Buffer): Buffer[] {
    if (this.windowMs <= 0) return [];
    return this.rules
      .flatMap((rule) => [rule.prefix, prefixUpperBound(rule.prefix)])
      .filter((cut): cut is Buffer => cut !== undefined && Buffer.compare(cut, start) > 0 && Buffer.compare(cut, end) < 0);
  }

  /**
   * [start, end) cut into the pieces over which each schedule's purge instant is one, in key
   * order: a range operation runs piece by piece with one instant each. One piece when no rule
   * falls inside the range.
   */
  static pieces(start: Buffer, end: Buffer, schedules: readonly PurgeSchedule[]): PurgePiece[] {
    const cuts = schedules.flatMap((schedule) => schedule.cuts(start, end)).sort(Buffer.compare);
    const bounds = [start, ...cuts.filter((cut, i) => i === 0 || !cut.equals(cuts[i - 1] as Buffer)), end];
    // Every key of a piece starts with the same rules' prefixes as the piece's first byte string.
    return bounds.slice(0, -1).map((pieceStart, i) => ({
      start: pieceStart,
      end: bounds[i + 1] as Buffer,
      purgeAfter: schedules.map((schedule) => schedule.at(pieceStart)),
    }));
  }
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}
