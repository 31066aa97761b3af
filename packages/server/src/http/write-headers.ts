import type { FastifyRequest } from 'fastify';
import { Headers } from 'stowage-client/protocol';
import { fail } from '../errors.js';
import type { WriteCondition } from '../storage/model.js';
import { writePreconditionsOf } from '../storage/preconditions.js';
import { joinedHeader } from './header-value.js';

/** If-Match / If-None-Match of a write or delete (storage/preconditions.ts). */
export function writeConditionOf(request: FastifyRequest): WriteCondition | undefined {
  return writePreconditionsOf(
    (name) => joinedHeader(request.headers[name]),
    (message) => fail('InvalidArgument', message),
  );
}

/** The client's sha256 of the body, if it sent one. */
export function expectedSha256Of(request: FastifyRequest): string | undefined {
  const value = request.headers[Headers.sha256];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[0-9a-fA-F]{64}$/.test(value))
    throw fail('InvalidArgument', `${Headers.sha256} must be 64 hex digits`);
  return value.toLowerCase();
}
