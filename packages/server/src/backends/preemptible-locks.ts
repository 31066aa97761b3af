import { fail } from '../errors.js';

interface Holder {
  readonly controller: AbortController;
}

/**
 * One lock per resumable upload session, where the newest request wins. A client retries a
 * chunk only after it gave up on the previous try; if that try's body stalled, it would hold
 * the session until a timeout, and the retry would wait behind it. So a new request aborts every
 * request still holding or awaiting the same session (as GCS does), then runs once they have
 * cleaned up. An aborted body read tears its connection down; a request past its body (hashing,
 * committing) is not interrupted, the signal is only consulted while bytes are read.
 */
export class PreemptibleLocks {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly holders = new Map<string, Set<Holder>>();

  run<T>(id: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const holders = this.holders.get(id) ?? new Set<Holder>();
    this.holders.set(id, holders);
    // 409 UploadOffsetMismatch, as for a chunk whose session moved on: a client that does see this
    // answer (its own earlier try, which it gave up on, or one its browser sent again) asks where the
    // upload stands and goes on, as it does after any other disagreement on the offset.
    const takenOver = fail('UploadOffsetMismatch', 'A newer request on this upload took over: ask where it stands');
    for (const earlier of holders) earlier.controller.abort(takenOver);
    const holder: Holder = { controller: new AbortController() };
    holders.add(holder);

    const previous = this.tails.get(id) ?? Promise.resolve();
    const next = previous.then(
      () => work(holder.controller.signal),
      () => work(holder.controller.signal),
    );
    const settled = next.catch(() => {});
    this.tails.set(id, settled);
    settled.then(() => {
      holders.delete(holder);
      if (holders.size === 0 && this.holders.get(id) === holders) this.holders.delete(id);
      if (this.tails.get(id) === settled) this.tails.delete(id);
    });
    return next;
  }
}
