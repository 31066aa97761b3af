import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Headers } from 'stowage-client/protocol';

// The Python client sends a uuid4; anything else a caller chose must not reach the logs as is.
const REQUEST_GROUP = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids: the caller's `X-Request-Group` when it is a short token (the Python client sends
 * a fresh uuid per call, so its calls can be found in the logs), else one of our own. A value
 * with CR/LF, quotes or kilobytes of text would forge or flood log lines and response headers.
 */
export function createRequestIds(): (request: IncomingMessage) => string {
  const bootId = randomBytes(4).toString('hex');
  let sequence = 0;
  return (request) => {
    const group = request.headers[Headers.requestGroup];
    if (typeof group === 'string' && REQUEST_GROUP.test(group)) return group;
    return `${bootId}-${(++sequence).toString(36)}`;
  };
}
