import { Readable } from 'node:stream';

/**
 * One request body read as consecutive pieces of chosen lengths, each a stream of its own, so a
 * long upload chunk can be made durable piece by piece. Bytes a piece did not take stay for the
 * next; the body itself is never destroyed here (the route may still answer on its connection).
 */
export class BodyPieces {
  private readonly chunks: AsyncIterator<Buffer>;
  private leftover: Buffer | undefined;

  constructor(body: Readable) {
    this.chunks = body.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  }

  /** The next `length` bytes (fewer if the body ends first). */
  next(length: number): Readable {
    return Readable.from(this.take(length), { objectMode: false });
  }

  private async *take(length: number): AsyncGenerator<Buffer> {
    let remaining = length;
    while (remaining > 0) {
      let chunk = this.leftover;
      this.leftover = undefined;
      if (!chunk) {
        const next = await this.chunks.next();
        if (next.done) return;
        chunk = next.value;
      }
      if (chunk.length > remaining) {
        this.leftover = chunk.subarray(remaining);
        chunk = chunk.subarray(0, remaining);
      }
      remaining -= chunk.length;
      yield chunk;
    }
  }
}
