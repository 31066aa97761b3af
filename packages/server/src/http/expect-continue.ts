import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Sends `100 Continue` (RFC 9110 §10.1.1) the first time the body is read, not when the headers
 * arrive: by then auth, the key, the size limit, free space and the URL's signature have all
 * been checked, and a client that would be refused gets its 4xx/5xx without sending a byte.
 */
export function continueOnFirstRead(request: FastifyRequest, reply: FastifyReply): void {
  if (request.headers.expect?.toLowerCase() !== '100-continue') return;
  const body = request.raw;
  const read = body._read;
  body._read = function continueThenRead(size: number) {
    body._read = read;
    if (!reply.raw.headersSent) reply.raw.writeContinue();
    return read.call(this, size);
  };
}
