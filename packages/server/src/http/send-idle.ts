import type { FastifyInstance } from 'fastify';

/**
 * A client that stops reading its response (a download it never consumes) would hold the
 * connection, an open blob file and an admission slot for ever: Node stops writing once the
 * socket's buffers are full, and none of its timeouts covers a response. After `ms` in which no
 * byte could be sent, the connection is closed, as nginx's `send_timeout` does. Armed when the
 * response starts, so the time a handler takes before it is never counted.
 */
export function closeStalledResponses(app: FastifyInstance, ms: number): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.raw.setTimeout(ms, () => reply.raw.destroy());
    done(null, payload);
  });
}
