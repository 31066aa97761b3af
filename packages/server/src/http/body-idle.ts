import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { fail, type StowageError } from '../errors.js';
import { continueOnFirstRead } from './expect-continue.js';

/** What a request body that stopped arriving ends with. */
export function bodyIdleError(ms: number): StowageError {
  return fail('RequestTimeout', `No byte of the request body arrived for ${ms / 1000} s; nothing was stored`);
}

/**
 * Calls `onIdle` once the client has gone `ms` without sending a byte of the request body,
 * measured by the socket's inactivity timer (nothing is written while a body is read). The timer
 * is heard on the response: Node tells the request only until its body is complete and otherwise
 * destroys the socket, which would cut off the answer to a write whose fsync and commit outlast
 * `ms` after the last byte. Returns the function that disarms it.
 *
 * The socket also goes quiet when the server stops reading: a slow disk holds the body back, or
 * the event loop was busy while bytes waited in the kernel (Node 20 runs due timers before it
 * reads). Neither is the client's idleness, so the verdict waits one turn of the loop (its I/O
 * phase reads what is there), and the timer starts again when bytes came meanwhile or when
 * received bytes wait for the server to take them. A store that never takes them is bounded by
 * the store's own timeouts and the request timeout, not by this one.
 */
export function armBodyIdleTimer(request: IncomingMessage, response: ServerResponse, ms: number, onIdle: () => void): () => void {
  let armed = true;
  const onTimeout = () => {
    if (request.complete) return;
    const bytesRead = request.socket?.bytesRead;
    setImmediate(() => {
      if (!armed || request.complete) return;
      const serverBehind = request.readableLength > 0 || request.socket?.bytesRead !== bytesRead;
      // A timer that fired starts again only on a read: when the server catches up with bytes
      // already received and none follow, nothing else would ever end the request.
      if (serverBehind) request.socket?.setTimeout(ms);
      else onIdle();
    });
  };
  response.setTimeout(ms, onTimeout);
  return () => {
    armed = false;
    response.off('timeout', onTimeout);
    request.socket?.setTimeout(0);
  };
}

/**
 * For the routes of `app` whose body Fastify parses (POST /auth/token, a few hundred bytes): the
 * whole body must arrive within `ms`, or the request ends in 408, instead of holding its
 * connection and its admission slot until the request timeout (a body trickled a byte at a time
 * never goes idle). The parser reads a stand-in stream, so that ending it leaves the connection
 * open for the answer. `100 Continue` goes out when the parser first reads.
 */
export function timeOutStalledParsedBodies(app: FastifyInstance, ms: number): void {
  app.addHook('preParsing', async (request, reply, payload) => {
    continueOnFirstRead(request, reply);
    if (request.raw.complete) return payload;
    const guarded = new PassThrough();
    const deadline = setTimeout(() => {
      if (request.raw.complete) return;
      payload.unpipe(guarded);
      guarded.destroy(fail('RequestTimeout', `The request body did not arrive within ${ms / 1000} s; nothing was done`));
    }, ms);
    const disarm = () => clearTimeout(deadline);
    payload.once('end', disarm);
    payload.once('error', (error) => {
      disarm();
      guarded.destroy(error);
    });
    reply.raw.once('close', disarm);
    return payload.pipe(guarded);
  });
}
