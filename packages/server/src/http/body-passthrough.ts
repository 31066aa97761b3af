import type { FastifyInstance } from 'fastify';

/**
 * Leaves every request body unparsed for the routes of this scope, whatever its content type:
 * upload handlers stream `request.raw` themselves, and the Python client's
 * `Content-Type: application/json` with an empty body on GET/HEAD/DELETE must not be parsed
 * (an empty JSON body would be a 400).
 */
export function passBodiesThrough(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
}
