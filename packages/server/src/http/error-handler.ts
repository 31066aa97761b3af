import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { fail, isStowageError, type StowageError } from '../errors.js';

/** Maps any error to the real status and a JSON body with a stable code: the one place that does. */
export function toStowageError(error: FastifyError | Error): StowageError {
  if (isStowageError(error)) return error;
  const errno = (error as NodeJS.ErrnoException).code;
  if (error.name === 'AbortError' || errno === 'ECONNRESET' || errno === 'ERR_STREAM_PREMATURE_CLOSE' || error.message === 'aborted') {
    return fail('RequestAborted');
  }
  // The disk (or the index on it) is full, whichever engine noticed: nothing was stored.
  if (errno === 'ENOSPC' || errno === 'EDQUOT' || errno === 'SQLITE_FULL') return fail('InsufficientStorage');
  if ((error as FastifyError).code === 'FST_ERR_BAD_URL') return fail('InvalidKey', 'The URL path is not valid percent-encoded UTF-8');
  const status = (error as FastifyError).statusCode;
  if (status === 413) return fail('EntityTooLarge');
  if (status !== undefined && status >= 400 && status < 500) return fail('InvalidArgument', error.message);
  return fail('InternalError');
}

export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  const mapped = toStowageError(error);
  if (mapped.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.debug({ code: mapped.code, detail: mapped.message }, 'request refused');
  // An unread request body must not be drained (it may be gigabytes): answer, then close.
  if (!request.raw.complete) reply.header('connection', 'close');
  if (mapped.headers) reply.headers(mapped.headers);
  reply.code(mapped.status).type('application/json').send(mapped.toBody(request.id));
}
