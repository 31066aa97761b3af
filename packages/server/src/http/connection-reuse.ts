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
