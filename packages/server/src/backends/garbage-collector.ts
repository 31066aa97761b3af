import type { BlobStore } from './blob-store.js';
import { isManifestId } from './composite.js';
import type { ObjectIndex } from './object-index.js';

const BATCH = 500;
/** Deletes in flight at once (an object store takes one request per blob). */
const PARALLEL = 16;
/** A claimed batch is hidden from other collectors this long; a collector that dies only delays it. */
const LEASE_MS = 5 * 60_000;
/**
 * How long the parts of a dissolved composite value outlive it: a read that looked the value up
 * before opens its parts as it reaches them, and one slower than this fails where a part is gone.
 */
export const COMPOSITE_PART_GRACE_MS = 15 * 60_000;

/**
 * Deletes the blobs the index queued when their rows were replaced, deleted or swept. Safe on
 * many servers at once: each claims a batch under a lease, deletes (idempotently), then forgets.
 */
export class GarbageCollector {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly index: ObjectIndex,
    private readonly blobs: BlobStore,
    private readonly clock: () => number,
    private readonly warn: (message: string, error: unknown) => void,
  ) {}

  /** After a commit: with no grace to wait for, collect right away (in the background). */
  collectSoon(graceMs: number): void {
    if (graceMs > 0 || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.collect()
      .then(() => {})
      .catch((error) => this.warn('collecting replaced blobs failed; the sweeper will retry', error))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.collectSoon(0);
        }
      });
  }

  /** Deletes every queued blob that is due at `now`. */
  async collect(now = this.clock()): Promise<number> {
    let total = 0;
    for (;;) {
      const taken = await this.index.takeGarbage({ now, limit: BATCH, leaseMs: LEASE_MS });
      if (taken.length === 0) return total;
      // A manifest is no blob of the store: dissolving it queues its parts' blobs, which a read
      // of the value begun before may still reach for a while (it opens them one at a time).
      const manifestIds = taken.filter((id) => isManifestId(id));
      // Bounded by the latest instant: collecting everything (start-up, `now` that instant) takes them too.
      const partsDue = Math.min(now + COMPOSITE_PART_GRACE_MS, Number.MAX_SAFE_INTEGER);
      await this.index.dissolveManifests({ manifestIds, collectAfter: partsDue });
      const ids = taken.filter((id) => !isManifestId(id));
      const deleted: string[] = [];
      for (let i = 0; i < ids.length; i += PARALLEL) {
        await Promise.all(
          ids.slice(i, i + PARALLEL).map((id) =>
            this.blobs.delete(id).then(
              () => deleted.push(id),
              (error) => this.warn(`could not delete blob ${id}; it stays queued`, error),
            ),
          ),
        );
      }
      await this.index.forgetGarbage(deleted);
      total += deleted.length + manifestIds.length;
      if (taken.length < BATCH) return total;
    }
  }

  /** Waits for a collection in progress, and starts no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
