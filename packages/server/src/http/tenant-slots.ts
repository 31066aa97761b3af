import type { ServerResponse } from 'node:http';
import { refuse } from '../errors.js';

/**
 * A per-user share of the requests in flight. Admission control bounds the whole server; this
 * keeps one user (or one leaked token) from taking every slot with slow uploads or downloads it
 * never finishes, which would lock every other user out. Past the share the user gets 429
 * RateLimited with `Retry-After`; other users are not affected.
 */
export class TenantSlots {
  private readonly inFlight = new Map<string, number>();
  /** Responses counted already (the fast read path counts before it may hand a request on). */
  private readonly counted = new WeakSet<ServerResponse>();

  constructor(readonly perTenant: number) {}

  /** Whether `tenant` may have one more request in flight. */
  hasRoom(tenant: string): boolean {
    return (this.inFlight.get(tenant) ?? 0) < this.perTenant;
  }

  /** Counts `response` against `tenant` until it closes, or throws 429 past the share. */
  enter(tenant: string, response: ServerResponse): void {
    if (this.counted.has(response)) return;
    const current = this.inFlight.get(tenant) ?? 0;
    if (current >= this.perTenant) {
      throw refuse('RateLimited', `${tenant} already has ${current} requests in flight, its share of the server`, { 'retry-after': '1' });
    }
    this.inFlight.set(tenant, current + 1);
    this.counted.add(response);
    response.once('close', () => {
      const left = (this.inFlight.get(tenant) ?? 1) - 1;
      if (left > 0) this.inFlight.set(tenant, left);
      else this.inFlight.delete(tenant);
    });
  }
}
