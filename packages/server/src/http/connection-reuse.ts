import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * The largest request body an answer may leave unread and still keep its connection: Node reads
 * it past once the answer is sent (IncomingMessage._dump), which costs less than the client's
 * new connection. A larger one is not read to the end (it may be gigabytes): the connection
 * closes instead.
 */
export const READ_PAST_MAX_BYTES = 64 * 1024;

/**
 * Whether the connection of `request` can serve the client's next request once this one is
 * answered, even when the answer came before the body was read (a refusal): the body was read
 * whole, there is none, or it is small and nobody started reading it. Closing a connection that
 * could be kept sends the client back to connect again; refused in a flood, every client does,
 * and the new connections fill the listen queue ahead of newcomers (docs/operations.md).
 */
export function canKeepConnection(request: IncomingMessage): boolean {
  if (request.complete) return true;
  const { headers } = request;
  // Chunked: its length is unknown until its end.
  if (headers['transfer-encoding'] !== undefined) return false;
  // RFC 9112 §6.3: no Content-Length (nor Transfer-Encoding), no body. Node marks even such a
  // request complete only after its 'request' event, so a refusal answered from there sees false.
  const length = Number(headers['content-length'] ?? 0);
  if (length === 0) return true;
  // A client waiting for `100 Continue` may never send its body: what comes next on the
  // connection would be either that body or its next request.
  if (headers.expect !== undefined) return false;
  // A body a route began to read (and stopped) is not Node's to read past: only an untouched one.
  return length <= READ_PAST_MAX_BYTES && request.readableFlowing === null && !request.readableDidRead && !request.destroyed;
}

/** Answers with `Connection: close` unless the connection can serve the next request. */
export function closeUnlessKept(request: IncomingMessage, reply: FastifyReply): void {
  if (!canKeepConnection(request)) reply.header('connection', 'close');
}

/** How long a refusal waits for the rest of a small body before it is sent anyway. */
const SETTLE_TIMEOUT_MS = 2000;
/** The largest body a refusal reads to its end first: a form or a small upload, not a large one. */
const SETTLE_MAX_BYTES = 1024 * 1024;

/**
 * Sends a refusal with `send` once the rest of a small body that a route began to read (a POST
 * form refused after its fields) has been read, up to 1 MiB: then the connection can be kept, and the client,
 * still sending, is not cut off with a reset instead of reading the refusal (Node 24's fetch
 * reports such a cut as EPIPE). A large body is left alone: closing is cheaper than reading
 * gigabytes no one wants. Without such a body, `send` runs at once.
 */
export function afterSmallBody(request: IncomingMessage, send: () => void): void {
  if (!hasUnreadSmallBody(request)) {
    send();
    return;
  }
  request.unpipe();
  request.resume();
  const timeout = AbortSignal.timeout(SETTLE_TIMEOUT_MS);
  Promise.race([once(request, 'end', { signal: timeout }), once(request, 'close', { signal: timeout })])
    .catch(() => {})
    .then(send);
}

function hasUnreadSmallBody(request: IncomingMessage): boolean {
  if (request.complete || request.destroyed || request.headers['transfer-encoding'] !== undefined) return false;
  if (request.headers.expect !== undefined) return false;
  // An untouched body is not waited for: the refusal goes at once (a flood is refused cheaply), and
  // Node reads a small one past afterwards (canKeepConnection).
  if (request.readableFlowing === null && !request.readableDidRead) return false;
  const length = Number(request.headers['content-length'] ?? 0);
  return length > 0 && length <= SETTLE_MAX_BYTES;
}
