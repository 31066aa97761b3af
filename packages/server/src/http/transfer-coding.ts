import type { FastifyRequest } from 'fastify';
import { fail } from '../errors.js';

/**
 * RFC 9112 §6.1: a server that receives a transfer coding it does not understand answers 501.
 * Node decodes only the chunked framing; a body sent as `gzip, chunked` would otherwise be
 * stored still gzipped, as if those were the object's bytes.
 */
export function assertKnownTransferCoding(request: FastifyRequest): void {
  const coding = request.headers['transfer-encoding'];
  if (coding !== undefined && coding.trim().toLowerCase() !== 'chunked') {
    throw fail('UnsupportedTransferEncoding', `Transfer-Encoding "${coding}" is not supported; send the body plain or chunked`);
  }
}
