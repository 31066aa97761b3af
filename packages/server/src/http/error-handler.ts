import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Headers } from 'stowage-client/protocol';
import { fail, isDiskFullError, isStowageError, type StowageError } from '../errors.js';
import { afterSmallBody, closeUnlessKept } from './connection-reuse.js';
import { logErrorAnswer } from './error-log.js';

/** Maps any error to the real status and a JSON body with a stable code: the one place that does. */
export function toStowageError(error: FastifyError | Error): StowageError {
  if (isStowageError(error)) return error;
  // An abort carries why it happened (a body-idle timeout, a newer request) as its cause.
  if (error.name === 'AbortError' && isStowageError(error.cause)) return error.cause;
  const errno = (error as NodeJS.ErrnoException).code;
  if (error.name === 'AbortError' || errno === 'ECONNRESET' || errno === 'ERR_STREAM_PREMATURE_CLOSE' || error.message === 'aborted') {
    return fail('RequestAborted');
  }
  // Nothing was stored: the disk is full.
  if (isDiskFullError(error)) return fail('InsufficientStorage');
  if ((error as FastifyError).code === 'FST_ERR_BAD_URL') return fail('InvalidKey', 'The URL path is not valid percent-encoded UTF-8');
  const status = (error as FastifyError).statusCode;
  if (status === 413) return fail('EntityTooLarge');
  if (status !== undefined && status >= 400 && status < 500) return fail('InvalidArgument', error.message);
  return fail('InternalError');
}

/**
 * Requests Node's parser refuses before routing (a control character in a header, headers too
 * large or too slow) get the same JSON error shape, then the connection closes.
 */
export function handleClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, mapped] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, fail('RequestTimeout', 'The request headers did not arrive in time')]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, fail('InvalidArgument', 'The request headers are too large')]
        : [400, fail('InvalidArgument', `Malformed HTTP request (${error.code ?? 'parse error'})`)];
  const body = JSON.stringify(mapped.toBody(''));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const mapped = toStowageError(error);
  logErrorAnswer(request.log, error, mapped);
  afterSmallBody(request.raw, () => {
    closeUnlessKept(request.raw, reply);
    if (mapped.headers) reply.headers(mapped.headers);
    const body = mapped.toBody(request.id);
    // The code in a header too: an answer to HEAD has no body, and "no such key" must not be told
    // apart from "no such route" (a URL without /storage/v1) by guesswork.
    reply.header(Headers.errorCode, body.code).code(mapped.status).type('application/json').send(body);
  });
}
