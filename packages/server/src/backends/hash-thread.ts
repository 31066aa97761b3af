import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** A sha256 fed chunk by chunk; `update` may ask the caller to wait (backpressure). */
export interface StreamingSha256 {
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** Hex digest of every chunk given; the hash is done with afterwards. */
  digest(): Promise<string>;
  /** Forgets a hash that will not be digested (the body failed). */
  discard(): void;
}

/** Bodies announced at least this long are hashed on the hash thread; smaller ones inline. */
export const OFFLOAD_MIN_BYTES = 8 * 1024 * 1024;
/** How far the hash thread may fall behind one body before its writer waits. */
const MAX_AHEAD_BYTES = 16 * 1024 * 1024;
/** Bytes copied together and handed to the hash thread in one message. */
const BATCH_BYTES = 1024 * 1024;
/** Empty batches kept for reuse (MiB of memory kept by an idle server at most). */
const SPARE_BATCHES = 8;
/** How often the hash thread reports how far it got with a body. */
const MARK_BYTES = 4 * 1024 * 1024;

/**
 * The sha256 of a body as it streams in. Hashing is the largest CPU cost of a large upload
 * (node:crypto does about 1.8 GB/s per core here, so 0.6 s of the event loop per GiB, during
 * which no other request is served and the socket is not read): a body announced as large is
 * hashed on a worker thread instead, in parallel with the socket and the disk. Small bodies are
 * hashed inline: posting a chunk to a thread costs more than hashing a few KiB.
 */
export function streamingSha256(expectedBytes: number | undefined): StreamingSha256 {
  if (expectedBytes !== undefined && expectedBytes >= OFFLOAD_MIN_BYTES) return hashThread().open();
  return inlineSha256(createHash('sha256'));
}

function inlineSha256(hash: Hash): StreamingSha256 {
  return {
    update(chunk) {
      hash.update(chunk);
      return undefined;
    },
    digest: async () => hash.digest('hex'),
    discard() {},
  };
}

// The thread's code, evaluated as CommonJS: no file to locate next to this module (dist or src).
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const open = new Map();
parentPort.on('message', ({ id, op, chunk, mark }) => {
  if (op === 'update') {
    let hash = open.get(id);
    if (!hash) open.set(id, (hash = createHash('sha256')));
    hash.update(chunk);
    // The batch goes back to be filled again: no allocation per batch on either side.
    parentPort.postMessage({ recycled: chunk }, [chunk.buffer]);
  } else if (op === 'mark') {
    parentPort.postMessage({ id, mark });
  } else if (op === 'digest') {
    const hash = open.get(id) ?? createHash('sha256');
    open.delete(id);
    parentPort.postMessage({ id, digest: hash.digest('hex') });
  } else if (op === 'drop') {
    open.delete(id);
  }
});
`;

/** What the thread sends: a body's progress (mark) or digest, or a batch back to be filled again. */
interface ThreadMessage {
  id?: number;
  mark?: number;
  digest?: string;
  recycled?: Uint8Array;
}

/** What the main thread knows of one body being hashed on the thread. */
interface Pending {
  /** Bytes the thread reported as hashed (its latest mark). */
  reported: number;
  /** The writer waiting for the thread to catch up to `until` bytes. */
  waiter?: { until: number; resolve: () => void; reject: (error: Error) => void };
  digest?: { resolve: (hex: string) => void; reject: (error: Error) => void };
}

/** One worker thread hashing every large body of this process, each under its own id. */
class HashThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  /** Batches back from the thread, ready to be filled again. */
  private readonly spare: Uint8Array[] = [];
  private nextId = 1;
  private broken: Error | undefined;

  constructor(private readonly onGone: () => void) {
    this.worker = new Worker(THREAD_SOURCE, { eval: true });
    // Referenced only while a body is being hashed: an idle thread must not keep the process up.
    this.worker.unref();
    this.worker.on('message', (message: ThreadMessage) => this.receive(message));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the hash thread exited (code ${code})`)));
  }

  open(): StreamingSha256 {
    const id = this.nextId++;
    const state: Pending = { reported: 0 };
    if (this.pending.size === 0) this.worker.ref();
    this.pending.set(id, state);
    let posted = 0;
    let sinceMark = 0;
    let done = false;
    // Chunks are copied into a batch that is moved (not cloned) to the thread once full: one
    // message per BATCH_BYTES instead of per socket read; the thread sends the batch back.
    let batch: Uint8Array | undefined;
    let filled = 0;
    const send = () => {
      if (!batch || filled === 0) return;
      const full = filled === batch.length ? batch : batch.slice(0, filled);
      this.worker.postMessage({ id, op: 'update', chunk: full }, [full.buffer as ArrayBuffer]);
      if (full !== batch) this.giveBack(batch);
      posted += filled;
      sinceMark += filled;
      batch = undefined;
      filled = 0;
      if (sinceMark >= MARK_BYTES) {
        sinceMark = 0;
        this.worker.postMessage({ id, op: 'mark', mark: posted });
      }
    };
    return {
      update: (chunk) => {
        if (this.broken) return Promise.reject(this.broken);
        for (let at = 0; at < chunk.length; ) {
          batch ??= this.takeBatch();
          const n = Math.min(chunk.length - at, batch.length - filled);
          batch.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === batch.length) send();
        }
        if (posted - state.reported <= MAX_AHEAD_BYTES) return undefined;
        return new Promise<void>((resolve, reject) => {
          state.waiter = { until: posted - MAX_AHEAD_BYTES, resolve, reject };
        });
      },
      digest: () => {
        done = true;
        if (this.broken) return Promise.reject(this.broken);
        send();
        return new Promise<string>((resolve, reject) => {
          state.digest = { resolve, reject };
          this.worker.postMessage({ id, op: 'digest' });
        });
      },
      discard: () => {
        if (done) return;
        done = true;
        if (batch) this.giveBack(batch);
        this.forget(id);
        if (!this.broken) this.worker.postMessage({ id, op: 'drop' });
      },
    };
  }

  /**
   * An empty batch: one the thread sent back, else a new one. Batches are lent to the thread and
   * returned, so a large upload allocates a few of them instead of one per MiB, and memory stays
   * at what is in flight (a transferred buffer is only freed when the thread's GC gets to it:
   * one repetition of a 1 GiB upload once grew the server by 86 MiB that way).
   */
  private takeBatch(): Uint8Array {
    return this.spare.pop() ?? new Uint8Array(new ArrayBuffer(BATCH_BYTES));
  }

  private giveBack(batch: Uint8Array): void {
    if (batch.length === BATCH_BYTES && this.spare.length < SPARE_BATCHES) this.spare.push(batch);
  }

  private receive(message: ThreadMessage): void {
    if (message.recycled) {
      this.giveBack(message.recycled);
      return;
    }
    const id = message.id ?? 0;
    const state = this.pending.get(id);
    if (!state) return;
    if (message.digest !== undefined) {
      this.forget(id);
      state.digest?.resolve(message.digest);
      return;
    }
    state.reported = message.mark ?? state.reported;
    if (state.waiter && state.reported >= state.waiter.until) {
      const { resolve } = state.waiter;
      state.waiter = undefined;
      resolve();
    }
  }

  private forget(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }

  /** The thread died: every hash under way fails (its upload answers 500), the next body gets a new thread. */
  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = error;
    this.onGone();
    for (const state of this.pending.values()) {
      state.waiter?.reject(error);
      state.digest?.reject(error);
    }
    this.pending.clear();
  }

  /** For tests: ends the thread as a crash would. */
  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

let current: HashThread | undefined;

function hashThread(): HashThread {
  if (!current) {
    const thread = new HashThread(() => {
      if (current === thread) current = undefined;
    });
    current = thread;
  }
  return current;
}

/** For tests: the thread large bodies are hashed on now (started if need be). */
export function currentHashThread(): { terminate(): Promise<number> } {
  return hashThread();
}
