import { prefixUpperBound } from './key-range.js';

/** A retention of its own for the keys under a prefix (S3's NoncurrentVersionExpiration with a Filter). */
export interface PrefixRetention {
  readonly prefix: string;
  /** How long a replaced value at such a key is kept (ms, above 0). */
  readonly ms: number;
}

/**
 * A lifecycle rule as the sweeper weighs it (prefix '' for every key): a version of a key under
 * it may go once `ms` passed since it stopped being current and `newer` newer noncurrent versions
 * of its key exist (S3's NoncurrentDays and NewerNoncurrentVersions; 0 without).
 */
export interface CountRule {
  readonly prefix: string;
  readonly ms: number;
  readonly newer: number;
}

/** A tenant's type's purge schedule, as the rules say now (ObjectService.purgeScheduleFor). */
export type PurgeScheduleSource = (tenant: string, type: string) => Promise<PurgeSchedule>;

/** A piece of a key range over which every key's purge instant is the same. */
export interface PurgePiece {
  readonly start: Buffer;
  readonly end: Buffer;
  /** Each schedule's instant for the piece's keys, in the order the schedules were given. */
  readonly purgeAfter: ReadonlyArray<number | undefined>;
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

  /** The rules' prefixes as bytes, made when a range is first cut (a write asks `at` only). */
  private bytePrefixes: Buffer[] | undefined;
  /** The count rules' prefixes as bytes, made when the sweeper first asks (countRulesAt). */
  private countPrefixes: Buffer[] | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly rules: readonly PrefixRetention[],
    private readonly now: number,
    /** The rules the sweeper weighs when one keeps versions by count (Retention.countRules). */
    private readonly countRules: readonly CountRule[] = [],
  ) {}

  /**
   * The purge instant of a value replaced or deleted at `key`; undefined when none is kept. A key
   * (valid UTF-8) starts with a prefix as text exactly when it does as bytes; a piece's first byte
   * string may not be text, so it is compared as bytes.
   */
  at(key: string | Buffer): number | undefined {
    if (this.windowMs <= 0) return undefined;
    const bytes = typeof key === 'string' ? undefined : this.bytes();
    let ms: number | undefined;
    this.rules.forEach((rule, i) => {
      const under = bytes ? startsWith(key as Buffer, bytes[i] as Buffer) : (key as string).startsWith(rule.prefix);
      if (under) ms = Math.min(ms ?? rule.ms, rule.ms);
    });
    return this.now + (ms ?? this.windowMs);
  }

  /**
   * The rules a due version at `key` is weighed by, when one of them keeps versions by count
   * (kept-newer.ts); undefined when none does: it goes at its purge instant. Also with a window of
   * 0: what was kept before keeps the rules it is under, as S3's outlive versioning's suspension.
   */
  countRulesAt(key: Buffer): readonly CountRule[] | undefined {
    this.countPrefixes ??= this.countRules.map((rule) => Buffer.from(rule.prefix, 'utf8'));
    const prefixes = this.countPrefixes;
    const under = this.countRules.filter((_, i) => startsWith(key, prefixes[i] as Buffer));
    return under.some((rule) => rule.newer > 0) ? under : undefined;
  }

  /**
   * This schedule as it applies to the destinations of a prefix copy or move, in the keys of its
   * source: the source key `fromPrefix + rest` is written at `toPrefix + rest`.
   */
  seenFrom(fromPrefix: string, toPrefix: string): PurgeSchedule {
    const rules = this.rules.flatMap((rule) => {
      // A rule over all of toPrefix covers every destination; one inside it, the sources of its part.
      if (toPrefix.startsWith(rule.prefix)) return [{ prefix: fromPrefix, ms: rule.ms }];
      if (rule.prefix.startsWith(toPrefix)) return [{ prefix: fromPrefix + rule.prefix.slice(toPrefix.length), ms: rule.ms }];
      return [];
    });
    // Only writes ask the result (the sweeper asks a type's own schedule): no count rules.
    return new PurgeSchedule(this.windowMs, rules, this.now);
  }

  private bytes(): Buffer[] {
    this.bytePrefixes ??= this.rules.map((rule) => Buffer.from(rule.prefix, 'utf8'));
    return this.bytePrefixes;
  }

  /** Where, strictly inside [start, end), the purge instant may change. */
  private cuts(start: Buffer, end: Buffer): Buffer[] {
    if (this.windowMs <= 0) return [];
    return this.bytes()
      .flatMap((prefix) => [prefix, prefixUpperBound(prefix)])
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
