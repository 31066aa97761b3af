import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config.js';
import { fail } from '../errors.js';

export const CONSOLE_PATH = '/console/';

/** Where `npm run build` puts the console (packages/server/dist/console), from src/ or dist/ alike. */
const ASSETS = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/**
 * The web console at `/console/`: static files built from packages/server/console, sent gzipped
 * when the browser takes it. It is one more client of the API, with no access of its own: it
 * signs in with a token or an API key like any other. The policy lets the page talk to this
 * server only (and to the public URL that signed URLs name, and to the store that reads redirected
 * to it come from: `redirectOrigin`), and show previews from blob: URLs.
 */
export function registerConsole(app: FastifyInstance, config: ServerConfig, redirectOrigin: string | undefined): void {
  app.get('/console', (_request, reply) => reply.redirect(CONSOLE_PATH, 301));
  if (!existsSync(ASSETS)) {
    app.get(`${CONSOLE_PATH}*`, async () => {
      throw fail('RouteNotFound', 'The console is not built: run npm run build');
    });
    return;
  }
  const connect = ["'self'", config.publicUrl ? new URL(config.publicUrl).origin : '', redirectOrigin ?? ''].filter(Boolean).join(' ');
  const policy = [
    "default-src 'self'",
    `connect-src ${connect}`,
    "img-src 'self' blob: data:",
    "frame-src 'self' blob:",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
  app.register(fastifyStatic, {
    root: ASSETS,
    prefix: CONSOLE_PATH,
    preCompressed: true,
    // The page is sent by the route below: the plugin answers a directory request that accepts
    // gzip with 404 when its files are pre-compressed.
    index: false,
    wildcard: true,
    // The bundle's name does not change with its content: the browser asks again (304 when unchanged).
    cacheControl: true,
    maxAge: 0,
    setHeaders: (response) => {
      response.header('content-security-policy', policy);
      response.header('x-content-type-options', 'nosniff');
      response.header('referrer-policy', 'no-referrer');
    },
  });
  app.after(() => {
    app.get(CONSOLE_PATH, (_request, reply) => reply.sendFile('index.html'));
  });
}
