import { explainInvalidKey } from 'stowage-client/protocol';
import { fail } from '../errors.js';
import { isStorageTypeOrBucketName } from './bucket-names.js';

/** One side of a copy or move, checked: a key, or a prefix (possibly empty). */
/** `type` is a storage type or a bucket name. */
export type Endpoint = { readonly type: string; readonly key: string } | { readonly type: string; readonly prefix: string };

export interface ParsedCopyRequest {
  readonly source: Endpoint;
  readonly destination: Endpoint;
  readonly overwrite: boolean;
}

/**
 * The JSON body of `POST /copy` and `POST /move`, checked field by field: both sides a key or
 * both a prefix, valid storage types and keys, distinct, and (within one type) prefixes that
 * do not contain one another, since a copy would then reach its own output.
 */
export function parseCopyRequest(body: unknown): ParsedCopyRequest {
  if (!isObject(body)) throw invalidBody('The body must be a JSON object {source, destination, overwrite?}');
  const source = endpointOf(body.source, 'source');
  const destination = endpointOf(body.destination, 'destination');
  if (body.overwrite !== undefined && typeof body.overwrite !== 'boolean') throw invalidBody('"overwrite" must be true or false');
  if ('key' in source !== 'key' in destination) throw invalidArgument('source and destination must both name a key, or both a prefix');
  if (source.type === destination.type) {
    if ('key' in source && 'key' in destination && source.key === destination.key)
      throw invalidArgument('source and destination are the same key');
    if (
      'prefix' in source &&
      'prefix' in destination &&
      (source.prefix.startsWith(destination.prefix) || destination.prefix.startsWith(source.prefix))
    )
      throw invalidArgument('within one storage type, neither prefix may start with the other');
  }
  return { source, destination, overwrite: body.overwrite === true };
}

function endpointOf(value: unknown, name: string): Endpoint {
  if (!isObject(value)) throw invalidBody(`"${name}" must be an object {type, key} or {type, prefix}`);
  const type = value.type ?? 'data';
  if (typeof type !== 'string' || !isStorageTypeOrBucketName(type))
    throw fail('InvalidStorageType', `${name}.type must be one of data, tmp, result, or a bucket's name`);
  if ('key' in value === 'prefix' in value) throw invalidBody(`"${name}" must have exactly one of "key" and "prefix"`);
  if ('key' in value) {
    if (typeof value.key !== 'string') throw invalidBody(`${name}.key must be a string`);
    const problem = explainInvalidKey(value.key);
    if (problem) throw fail('InvalidKey', `${name}.key: ${problem}`);
    return { type, key: value.key };
  }
  if (typeof value.prefix !== 'string') throw invalidBody(`${name}.prefix must be a string`);
  if (value.prefix !== '' && explainInvalidKey(value.prefix))
    throw fail('InvalidKey', `${name}.prefix: ${explainInvalidKey(value.prefix)}`);
  return { type, prefix: value.prefix };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidBody(detail: string) {
  return fail('InvalidRequestBody', detail);
}

function invalidArgument(detail: string) {
  return fail('InvalidArgument', detail);
}
