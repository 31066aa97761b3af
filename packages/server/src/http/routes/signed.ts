import type { FastifyInstance, FastifyReply } from 'fastify';
import { API_BASE_PATH, hasControlCharacters, Routes, UrlKinds } from 'stowage-client/protocol';
import { fail } from '../../errors.js';
import { requireUser } from '../../storage/access.js';
import type { AppContext } from '../context.js';
import { attachmentDisposition } from '../object-attributes.js';
import { downloadOrigin } from '../origin.js';
import { parseExpiresIn } from '../query-params.js';
import { keyFromRawUrl } from '../request-key.js';
import { serveObject, serveObjectHead } from '../send-object.js';

interface SignedRequest {
  Params: { type: string };
  Querystring: Record<string, string | undefined>;
}

const KEY_AFTER_ROUTE_WORD = 4;
export const SIGNED_PATH = `${API_BASE_PATH}/${UrlKinds.signedDownload}/:type/*`;

/**
 * GET `{bucket}/get_signed_url/{key}` → a URL that downloads the key without auth, for a user who
 * may read it. The URL is a capability: it works until it expires. An anonymous caller gets none
 * (MissingToken): it reads a public key directly, and a URL would keep reading it after the key
 * stops being public, on its owner's rate budget.
 */
export function registerSignedUrlIssuing(app: FastifyInstance, ctx: AppContext): void {
  app.get<SignedRequest>(`${API_BASE_PATH}/:type/${Routes.signedUrl}/*`, async (request, reply) => {
    requireUser(request.principal);
    const key = keyFromRawUrl(request.url, KEY_AFTER_ROUTE_WORD);
    const { ref, check } = await ctx.access.readable(request.principal, request.params.type, key);
    if (check) check(await ctx.objects.find(ref));
    const ttlMs = parseExpiresIn(request.query.expires_in, ctx.config.signedUrlTtlMs, ctx.config.signedUrlMaxTtlMs);
    const filename = request.query.filename === undefined ? undefined : parseFilename(request.query.filename);
    await ctx.objects.head(ref);
    return sendUrl(reply, ctx.signedUrls.createDownloadUrl(downloadOrigin(ctx.config, request), ref, ttlMs, filename));
  });
}

/** Unauthenticated: GET/HEAD of a signed download URL; the signature is the credential. */
export function registerSignedDownloads(app: FastifyInstance, ctx: AppContext): void {
  // The URL's tenant pays for the request: whoever holds a signed URL spends its owner's rate.
  const verify = (request: { params: { type: string }; url: string; query: Record<string, string | undefined> }, reply: FastifyReply) => {
    const grant = ctx.signedUrls.verifyDownload(request.params.type, keyFromRawUrl(request.url, KEY_AFTER_ROUTE_WORD), request.query);
    ctx.rateLimits.take(grant.ref.tenant);
    ctx.tenantSlots.enter(grant.ref.tenant, reply.raw);
    return grant;
  };
  const serveOptions = (filename: string | undefined, urlExpiresAt: number) => ({
    disposition: filename === undefined ? undefined : attachmentDisposition(filename),
    // A read sent on to the store must not outlive the URL that allowed it.
    notAfter: urlExpiresAt,
  });

  app.get<SignedRequest>(SIGNED_PATH, { exposeHeadRoute: false }, async (request, reply) => {
    const { ref, filename, urlExpiresAt } = verify(request, reply);
    return serveObject(ctx, request, reply, ref, serveOptions(filename, urlExpiresAt));
  });
  app.head<SignedRequest>(SIGNED_PATH, async (request, reply) => {
    const { ref, filename, urlExpiresAt } = verify(request, reply);
    return serveObjectHead(ctx, request, reply, ref, serveOptions(filename, urlExpiresAt));
  });
  app.route({
    method: ['PUT', 'POST', 'DELETE', 'PATCH'],
    url: SIGNED_PATH,
    handler: async () => {
      throw fail('MethodNotAllowed', 'A signed download URL serves only GET and HEAD', { allow: 'GET, HEAD' });
    },
  });
}

const MAX_FILENAME_BYTES = 255;

/** The file name a signed URL makes its download save as: text without control characters or path separators. */
function parseFilename(name: string | string[]): string {
  if (
    typeof name !== 'string' ||
    name === '' ||
    Buffer.byteLength(name) > MAX_FILENAME_BYTES ||
    hasControlCharacters(name) ||
    /[/\\]/.test(name)
  )
    throw fail('InvalidArgument', `filename must be 1-${MAX_FILENAME_BYTES} bytes of text without control characters, / or \\`);
  return name;
}

/** Answers with a URL as text/plain, no trailing newline (the Python client uses the body as is). */
export function sendUrl(reply: FastifyReply, url: string) {
  return reply.code(200).type('text/plain; charset=utf-8').send(url);
}
