/** Options of {@link Retry}; every count is a number of retries (not attempts). */
export interface RetryOptions {
  /** Most retries of any kind. Default 3. */
  total?: number;
  /** Most retries after connection errors (the request never reached the server). Default 2. */
  connect?: number;
  /** Most retries after errors once the request was sent (reset, read timeout). Default 2. */
  read?: number;
  /** Most retries after a status in `statusForcelist` or a 429/503 with Retry-After. Default 2. */
  status?: number;
  /** Sleep `backoffFactor * 2^(n-1)` seconds before retry n. Default 0.5. */
  backoffFactor?: number;
  /** Plus a random 0..backoffJitter seconds. Default 0.5. */
  backoffJitter?: number;
  /** Longest sleep, in seconds, including a server's Retry-After. Default 120. */
  backoffMax?: number;
  /** Statuses that are retried. Default 500, 502, 503, 504. */
  statusForcelist?: readonly number[];
  /** Methods retried after read errors and statuses. Default the idempotent ones. */
  allowedMethods?: readonly string[];
  /** Honour Retry-After on 429 and 503. Default true. */
  respectRetryAfterHeader?: boolean;
}

/** What went wrong on one attempt. */
export type RetryCause = { kind: 'connect' } | { kind: 'read' } | { kind: 'status'; status: number; retryAfterSeconds: number | undefined };

const RETRY_AFTER_STATUSES = new Set([429, 503]);

/**
 * Retry policy modelled on urllib3's `Retry`: separate budgets for connect, read and status
 * failures under one total, exponential backoff with jitter, and Retry-After.
 *
 * @example
 * new Storage({ retries: new Retry({ total: 5, backoffFactor: 1 }) })
 */
export class Retry {
  static readonly DEFAULTS = {
    total: 3,
    connect: 2,
    read: 2,
    status: 2,
    backoffFactor: 0.5,
    backoffJitter: 0.5,
    backoffMax: 120,
    statusForcelist: [500, 502, 503, 504],
    allowedMethods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'],
    respectRetryAfterHeader: true,
  } as const satisfies Required<RetryOptions>;

  readonly options: Readonly<Required<RetryOptions>>;

  constructor(options: RetryOptions = {}) {
    this.options = Object.freeze({ ...Retry.DEFAULTS, ...options });
  }

  /** A policy that never retries. */
  static none(): Retry {
    return new Retry({ total: 0, connect: 0, read: 0, status: 0 });
  }

  /**
   * This policy, also retrying `methods`: for a request that is safe to repeat whatever its
   * method, such as the token exchange (a POST that only reads the API key).
   */
  alsoRetrying(...methods: string[]): Retry {
    const allowedMethods = [...new Set([...this.options.allowedMethods, ...methods])];
    return new Retry({ ...this.options, allowedMethods });
  }

  /** Whether a response with this status should be retried (given budget). */
  isRetryableStatus(method: string, status: number, hasRetryAfter: boolean): boolean {
    if (!this.options.allowedMethods.includes(method)) return false;
    if (this.options.statusForcelist.includes(status)) return true;
    return this.options.respectRetryAfterHeader && hasRetryAfter && RETRY_AFTER_STATUSES.has(status);
  }

  /** Starts counting retries for one request. */
  start(): RetryState {
    return new RetryState(this);
  }
}

/** The retries used so far by one request. */
export class RetryState {
  private used = { total: 0, connect: 0, read: 0, status: 0 };

  constructor(readonly policy: Retry) {}

  /** Retries made so far. */
  get count(): number {
    return this.used.total;
  }

  /**
   * Records a failure and returns how long to sleep (ms) before the next attempt, or undefined
   * when the failure must not be retried (budget spent, or method not allowed).
   */
  next(method: string, cause: RetryCause): number | undefined {
    const { options } = this.policy;
    if (cause.kind !== 'connect' && !options.allowedMethods.includes(method)) return undefined;
    if (this.used.total >= options.total || this.used[cause.kind] >= options[cause.kind]) return undefined;
    this.used.total++;
    this.used[cause.kind]++;
    if (cause.kind === 'status' && cause.retryAfterSeconds !== undefined && options.respectRetryAfterHeader) {
      return Math.min(cause.retryAfterSeconds, options.backoffMax) * 1000;
    }
    const backoff = options.backoffFactor * 2 ** (this.used.total - 1) + Math.random() * options.backoffJitter;
    return Math.min(backoff, options.backoffMax) * 1000;
  }
}

/** Parses Retry-After (seconds or an HTTP date) into seconds from now. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim());
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}
