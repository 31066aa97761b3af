import type { FastifyRequest } from 'fastify';
import { Headers } from 'stowage-client/protocol';
import type { WriteCondition } from '../backends/backend.js';
import { fail } from '../errors.js';
import { parseEtagList } from '../storage/preconditions.js';

/** If-Match / If-None-Match of a write or delete. Only `If-None-Match: *` makes sense for writes. */
export function writeConditionOf(request: FastifyRequest): WriteCondition | undefined {
  const ifMatch = parseEtagList(request.headers['if-match']);
  const noneMatch = parseEtagList(request.headers['if-none-match']);
  if (noneMatch && !(noneMatch.length === 1 && noneMatch[0] === '*')) {
    throw fail('InvalidArgument', 'On writes If-None-Match takes only "*" (create only)');
  }
  if (!ifMatch && !noneMatch) return undefined;
  return { ifMatch, ifNoneMatch: noneMatch !== undefined };
}

/** The client's sha256 of the body, if it sent one. */
export function expectedSha256Of(request: FastifyRequest): string | undefined {
  const value = request.headers[Headers.sha256];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{64}$/.test(value))
    throw fail('InvalidArgument', `${Headers.sha256} must be 64 hex digits`);
  return value.toLowerCase();
}
