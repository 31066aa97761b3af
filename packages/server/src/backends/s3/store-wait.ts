import { Readable } from 'node:stream';
import { fail, type StowageError } from '../../errors.js';
import { mapStoreError } from './s3-errors.js';

/** The 503 of a store that left one of its waits (STOWAGE_BLOB_TIMEOUT) unanswered. */
export function storeTimeout(what: string, ms: number): StowageError {
  return fail('StorageUnavailable', `The blob store does not answer: ${what} got nothing within ${ms} ms`, { 'retry-after': '2' });
}

/**
 * Times what the store owes one operation: its answer, taking the next bytes of a body, giving
 * the next bytes of one. Each wait may last `ms`; the client's own pace (waiting for its next
 * chunk, or for it to read on) is not counted, since the server's body and send timeouts bound
 * it. One timer serves every wait of the operation: it is checked when it fires, not set again
 * per chunk.
 */
export class StoreWait {
  private since: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly onTimeout: () => void,
  ) {}

  /** The operation now waits on the store. */
  begin(): void {
    this.since = performance.now();
    if (!this.timer) this.arm(this.ms);
  }

  /** The store gave what the operation waited for. */
  end(): void {
    this.since = undefined;
  }

  /** The operation is over. */
  stop(): void {
    this.since = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.since === undefined) return;
      const waited = performance.now() - this.since;
      if (waited < this.ms) return this.arm(this.ms - waited);
      this.since = undefined;
      this.onTimeout();
    }, delay);
    // A watchdog: it must not keep a process alive whose work is done (a stream that ended
    // with a read still asked for leaves it armed until it finds nothing waiting).
    this.timer.unref();
  }
}

/**
 * The body of a store's answer, failing with 503 StorageUnavailable when the store stops sending
 * it for `ms` while the reader wants more, or breaks it off. A reader that stops reading pauses
 * the wait: a slow client is not a stalled store (the send timeout deals with it).
 */
export function watchedBody(body: Readable, ms: number, what: string): Readable {
  const wait = new StoreWait(ms, () => watched.destroy(storeTimeout(what, ms)));
  const watched = new Readable({
    highWaterMark: body.readableHighWaterMark,
    read() {
      wait.begin();
      body.resume();
    },
    destroy(error, callback) {
      wait.stop();
      body.destroy();
      callback(error);
    },
  });
  body.on('data', (chunk: Buffer) => {
    if (watched.push(chunk)) wait.begin();
    else {
      wait.end();
      body.pause();
    }
  });
  body.once('end', () => {
    wait.stop();
    watched.push(null);
  });
  body.once('error', (error) => watched.destroy(mapStoreError(error) as Error));
  wait.begin();
  return watched;
}
