import type { FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config.js';

/** Origin for URLs the server hands out: the configured public URL, else what the client used. */
export function publicOrigin(config: ServerConfig, request: FastifyRequest): string {
  return config.publicUrl ?? `${request.protocol}://${request.host}`;
}
