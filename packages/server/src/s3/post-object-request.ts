import type { FastifyRequest } from 'fastify';
import { single } from './header-value.js';

/**
 * Whether the request is a POST Object form upload (an HTML form's multipart/form-data POST to a
 * bucket, with no query and no Authorization header): its credentials are the form's policy and
 * signature fields, so it is authenticated from them (post-object.ts), not from its headers.
 */
export function isPostObject(request: FastifyRequest): boolean {
  if (request.method !== 'POST' || request.headers.authorization !== undefined) return false;
  const url = request.raw.url ?? '';
  if (url.includes('?') || !/^multipart\/form-data\s*;/i.test(single(request.headers['content-type']) ?? '')) return false;
  return /^\/s3\/[^/]+\/?$/.test(url);
}
