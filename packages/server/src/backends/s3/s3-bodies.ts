import { nextUnlessAborted } from '../metered-body.js';

/** Yields `body` as it is, failing as soon as it holds more, or at its end fewer, than `length` bytes. */
export async function* exactly(body: AsyncIterable<Buffer>, length: number, what: string): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (seen > length) throw new Error(`${what} holds more than the ${length} bytes announced`);
    yield chunk;
  }
  if (seen !== length) throw new Error(`${what} ended after ${seen} of the ${length} bytes announced`);
}

/**
 * Yields `body` until `signal` aborts, then throws the signal's reason at once, even while the
 * body is waiting for its next chunk (a body that stalls must not hold an aborted write). Each
 * wait listens for the abort only until its chunk comes: racing every chunk against one promise
 * that lives as long as the body would hang a reaction per chunk on it, and with each reaction
 * the chunk, so the whole body would stay in memory until it ended.
 */
export async function* untilAborted(body: AsyncIterable<Buffer>, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  if (!signal) {
    yield* body;
    return;
  }
  signal.throwIfAborted();
  const iterator = body[Symbol.asyncIterator]();
  let finished = false;
  try {
    while (true) {
      const next = await nextUnlessAborted(iterator, signal);
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!finished) iterator.return?.()?.catch(() => {});
  }
}

/** The bodies one after the other, each opened only when the one before it ended. */
export async function* concatenated(bodies: Iterable<() => Promise<AsyncIterable<Buffer>>>): AsyncGenerator<Buffer> {
  for (const open of bodies) yield* await open();
}

/**
 * Reads a body in consecutive pieces of chosen lengths, cutting chunks at the boundaries. It
 * reads only when a piece is read, and holds at most the rest of one chunk between pieces.
 */
export class PieceReader {
  private held: Buffer | undefined;
  private ended = false;
  private readonly iterator: AsyncIterator<Buffer>;

  constructor(body: AsyncIterable<Buffer>) {
    this.iterator = body[Symbol.asyncIterator]();
  }

  /** The next `length` bytes as they come; fewer only when the body ends first. */
  async *take(length: number): AsyncGenerator<Buffer> {
    let left = length;
    while (left > 0) {
      const chunk = await this.next();
      if (chunk === undefined) return;
      if (chunk.length > left) {
        this.held = chunk.subarray(left);
        yield chunk.subarray(0, left);
        return;
      }
      left -= chunk.length;
      if (chunk.length > 0) yield chunk;
    }
  }

  /** The next `length` bytes in memory (fewer only at the end of the body), as the chunks that came. */
  async gather(length: number): Promise<{ chunks: Buffer[]; length: number }> {
    const chunks: Buffer[] = [];
    let gathered = 0;
    for await (const chunk of this.take(length)) {
      chunks.push(chunk);
      gathered += chunk.length;
    }
    return { chunks, length: gathered };
  }

  /** Whether the body holds no more bytes: reads one chunk ahead, which the next piece starts with. */
  async atEnd(): Promise<boolean> {
    while (true) {
      const chunk = await this.next();
      if (chunk === undefined) return true;
      if (chunk.length > 0) {
        this.held = chunk;
        return false;
      }
    }
  }

  private async next(): Promise<Buffer | undefined> {
    const held = this.held;
    if (held !== undefined) {
      this.held = undefined;
      return held;
    }
    if (this.ended) return undefined;
    const next = await this.iterator.next();
    if (!next.done) return next.value;
    this.ended = true;
    return undefined;
  }
}

/** Hands the chunks over one by one, letting go of each as it goes (the array ends empty). */
export async function* handedOver(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (let chunk = chunks.shift(); chunk !== undefined; chunk = chunks.shift()) yield chunk;
}
