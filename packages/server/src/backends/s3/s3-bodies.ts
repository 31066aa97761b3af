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
 * body is waiting for its next chunk (a body that stalls must not hold an aborted write).
 */
export async function* untilAborted(body: AsyncIterable<Buffer>, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  if (!signal) {
    yield* body;
    return;
  }
  signal.throwIfAborted();
  const iterator = body[Symbol.asyncIterator]();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  let finished = false;
  try {
    while (true) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!finished) iterator.return?.()?.catch(() => {});
  }
}

/** The bodies one after the other, each opened only when the one before it ended. */
export async function* concatenated(bodies: Iterable<() => Promise<AsyncIterable<Buffer>>>): AsyncGenerator<Buffer> {
  for (const open of bodies) yield* await open();
}
