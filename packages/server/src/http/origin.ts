import type { FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config.js';
import { trustedHost } from './host-names.js';

/**
 * Origin for URLs the server hands out: the configured public URL; else, behind a trusted proxy,
 * the host and scheme it forwards; else the Host the client sent when it names this listener,
 * and the address the request arrived on when it does not (host-names.ts).
 */
export function publicOrigin(config: ServerConfig, request: FastifyRequest): string {
  if (config.publicUrl) return config.publicUrl;
  if (config.trustProxy) return `${request.protocol}://${request.host}`;
  const socket = request.raw.socket;
  const host = trustedHost(request.headers.host, {
    host: config.host,
    address: socket.localAddress ?? config.host,
    port: socket.localPort ?? config.port,
    allowedHosts: config.allowedHosts,
  });
  return `${request.protocol}://${host}`;
}

/**
 * Origin for signed download URLs: the user-content origin when one is set, so the pages they
 * open are documents of another origin than the console's; else the public origin.
 */
export function downloadOrigin(config: ServerConfig, request: FastifyRequest): string {
  return config.userContentUrl ?? publicOrigin(config, request);
}
