import { refuse } from '../errors.js';

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, ms. */
  at: number;
}

/** Past this many tenants, buckets that have refilled (as good as new) are forgotten. */
const MAX_BUCKETS = 10_000;

/**
 * Requests per second per tenant, as token buckets: `burst` requests at once, then `perSecond`.
 * Held in memory by this server process alone: several servers behind one load balancer each
 * allow the full rate, and a restart starts every bucket full.
 */
export class TenantRateLimits {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly clock: () => number,
  ) {}

  get enabled(): boolean {
    return this.perSecond > 0;
  }

  /** Spends one request of `tenant`'s budget, or throws RateLimited with the seconds until the next. */
  take(tenant: string): void {
    if (!this.enabled) return;
    const now = this.clock();
    const bucket = this.refill(this.buckets.get(tenant) ?? { tokens: this.burst, at: now }, now);
    if (bucket.tokens < 1) {
      const seconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
      this.buckets.set(tenant, bucket);
      throw refuse('RateLimited', `More than ${this.perSecond} requests per second (burst ${this.burst}) for ${tenant}`, {
        'retry-after': String(seconds),
      });
    }
    bucket.tokens -= 1;
    if (!this.buckets.has(tenant) && this.buckets.size >= MAX_BUCKETS) this.forgetFullBuckets(now);
    this.buckets.set(tenant, bucket);
  }

  private refill(bucket: Bucket, now: number): Bucket {
    // A clock that stepped back refills nothing rather than draining the bucket.
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    return { tokens: Math.min(this.burst, bucket.tokens + elapsed * this.perSecond), at: Math.max(now, bucket.at) };
  }

  private forgetFullBuckets(now: number): void {
    for (const [tenant, bucket] of this.buckets) if (this.refill(bucket, now).tokens >= this.burst) this.buckets.delete(tenant);
  }
}
