import type { ServerResponse } from 'node:http';
import { refuse } from '../errors.js';
import type { Metrics } from './metrics.js';

/** Routes that answer whatever the load: orchestrators and scrapers must always get through. */
const ALWAYS_ADMITTED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Admission control: at most `maxInFlight` requests are served at once. Past it, a request is
 * refused at once with 503 Overloaded and `Retry-After` (the Python client retries those),
 * before auth or any byte of its body is read, so that the requests already admitted stay fast
 * and a new client learns where it stands in milliseconds instead of queueing for seconds.
 * Called by the onRequest hook of app.ts, and by the fast read path (fast-read.ts).
 */
export class Admission {
  private inFlight = 0;
  /** Responses counted already (the fast read path counts before it may hand a request on). */
  private readonly counted = new WeakSet<ServerResponse>();

  constructor(
    private readonly maxInFlight: number,
    private readonly metrics: Metrics,
  ) {}

  /** Counts the request until its response closes, or throws 503 Overloaded past the limit. */
  admit(url: string, response: ServerResponse): void {
    if (this.counted.has(response) || ALWAYS_ADMITTED.has(url.split('?')[0] ?? '')) return;
    if (!this.hasRoom()) {
      this.metrics.refused.inc();
      throw refuse('Overloaded', `The server is serving ${this.inFlight} requests, its limit`, { 'retry-after': '1' });
    }
    this.enter(response);
  }

  hasRoom(): boolean {
    return this.inFlight < this.maxInFlight;
  }

  /** Counts a request let in (hasRoom said so) until its response closes. */
  enter(response: ServerResponse): void {
    this.counted.add(response);
    this.inFlight++;
    this.metrics.inFlight.set(this.inFlight);
    // 'close' fires once the response is done or its connection dropped, whatever happened.
    response.once('close', this.leave);
  }

  private readonly leave = () => {
    this.inFlight--;
    this.metrics.inFlight.set(this.inFlight);
  };
}
