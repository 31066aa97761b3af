import net from 'node:net';

/** A raw connection: what tests write byte for byte, and everything the server answered. */
export interface RawSocket {
  write(data: string | Buffer): void;
  /** All bytes received so far, as latin1 text. */
  received(): string;
  /** Resolves once `pattern` appears in what was received (or rejects after `ms`). */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  /** Resolves with the first `count` complete responses received (or rejects after `ms`). */
  responses(count: number, ms?: number): Promise<RawAnswer[]>;
  /** Resolves when the server closed the connection (or rejects after `ms`). */
  closed(ms?: number): Promise<void>;
  /** Whether the server closed the connection already. */
  isClosed(): boolean;
  destroy(): void;
}

/** One response read off a raw connection: its status, headers (lower-case names) and body. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The complete responses at the start of `text`, each framed by its Content-Length (every answer
 * of the server has one, except answers to HEAD, which these tests do not send).
 */
export function parseResponses(text: string): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let at = 0;
  while (at < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd === -1) break;
    const [statusLine = '', ...lines] = text.slice(at, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const status = Number(statusLine.split(' ')[1]);
    const bodyStart = headEnd + 4;
    const length = status < 200 ? 0 : Number(headers['content-length'] ?? 0);
    if (text.length < bodyStart + length) break;
    // A 100 Continue is not an answer: the final response follows it.
    if (status >= 200) answers.push({ status, headers, body: text.slice(bodyStart, bodyStart + length) });
    at = bodyStart + length;
  }
  return answers;
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
    async responses(count, ms = 5000) {
      await poll(() => parseResponses(text).length >= count, ms, `fewer than ${count} responses`);
      return parseResponses(text).slice(0, count);
    },
    closed: (ms = 5000) => poll(() => isClosed, ms, 'the connection was not closed'),
    isClosed: () => isClosed,
    destroy: () => socket.destroy(),
  };
}
