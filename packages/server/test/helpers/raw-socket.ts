import net from 'node:net';

/** A raw connection: what tests write byte for byte, and everything the server answered. */
export interface RawSocket {
  write(data: string | Buffer): void;
  /** All bytes received so far, as latin1 text. */
  received(): string;
  /** Resolves once `pattern` appears in what was received (or rejects after `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  /** Resolves when the server closed the connection (or rejects after `ms`). */
  closed(ms?: number): Promise<void>;
  destroy(): void;
}

/** Opens a TCP connection to `origin` for requests no HTTP client would send (stalls, odd headers). */
export async function openRawSocket(origin: string): Promise<RawSocket> {
  const { hostname, port } = new URL(origin);
  const socket = net.connect(Number(port), hostname);
  let text = '';
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    isClosed = true;
  });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const poll = (done: () => boolean, ms: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const timer = setInterval(() => {
        if (done()) {
          clearInterval(timer);
          resolve();
        } else if (Date.now() - started > ms) {
          clearInterval(timer);
          reject(new Error(`${what} within ${ms} ms; received: ${JSON.stringify(text.slice(0, 300))}`));
        }
      }, 10);
    });
  return {
    write: (data) => socket.write(data),
    received: () => text,
    async waitFor(pattern, ms = 5000) {
      await poll(() => pattern.test(text), ms, `no ${pattern}`);
      return text;
    },
    closed: (ms = 5000) => poll(() => isClosed, ms, 'the connection was not closed'),
    destroy: () => socket.destroy(),
  };
}
