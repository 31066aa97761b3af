import type { FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config.js';

/** Origin for URLs the server hands out: the configured public URL, else what the client used. */
export function publicOrigin(config: ServerConfig, request: FastifyRequest): string {
  return config.publicUrl ?? `${request.protocol}://${request.host}`;
}

/**
 * Origin for signed download URLs: the user-content origin when one is set, so the pages they
 * open are documents of another origin than the console's; else the public origin.
 */
export function downloadOrigin(config: ServerConfig, request: FastifyRequest): string {
  return config.userContentUrl ?? publicOrigin(config, request);
}
