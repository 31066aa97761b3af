import type { FastifyInstance } from 'fastify';
import { fail } from '../errors.js';

/**
 * Parses `application/json` bodies in this scope, an empty one as no body at all (a client may
 * send the header on a POST that needs no body, as the Python client does on every call).
 */
export function parseJsonBodies(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(fail('InvalidRequestBody', `The body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
}
