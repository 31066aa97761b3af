import { MAX_DELETE_MANY_KEYS } from 'stowage-client/protocol';
import type { AppContext } from '../http/context.js';
import type { Principal } from '../storage/bucket-model.js';
import { s3Errors } from './errors.js';
import { parseXmlBody } from './xml.js';

/** DeleteObjects: up to 1000 keys in one index transaction; a missing key counts as deleted, as in S3. */
export async function deleteObjects(ctx: AppContext, principal: Principal, bucket: string, xml: string): Promise<Record<string, unknown>> {
  const request = parseXmlBody(xml, 'Delete');
  const objects = (request.Object ?? []) as Array<{ Key?: unknown }>;
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_DELETE_MANY_KEYS) throw s3Errors.malformedXml();
  // Deleting the current value instead of the version named would be a wrong success.
  if (objects.some((object) => object !== null && typeof object === 'object' && 'VersionId' in object))
    throw s3Errors.notImplemented('DeleteObjects of versions (VersionId): delete them one by one');
  const quiet = String(request.Quiet ?? 'false').trim() === 'true';
  const keys = objects.map((object) => (typeof object.Key === 'string' ? object.Key : ''));
  const { tenant, type, bucket: named } = await ctx.access.unjudged(principal, bucket);
  // Each key is judged on its own: a grant of a prefix covers the keys under it only.
  const refused = named ? keys.filter((key) => !ctx.access.allows(principal, named, 'object:delete', key)) : [];
  const { results } = await ctx.prefixes.deleteKeys(tenant, type, keys, new Set(refused));
  const deleted: unknown[] = [];
  const errors: unknown[] = [];
  for (const result of results) {
    if (!result.deleted && result.code === 'InvalidKey') errors.push({ Key: result.key, Code: 'InvalidArgument', Message: result.message });
    else if (!result.deleted && result.code === 'AccessDenied')
      errors.push({ Key: result.key, Code: 'AccessDenied', Message: 'Access Denied' });
    else if (!quiet) deleted.push({ Key: result.key });
  }
  const body: Record<string, unknown> = {};
  if (deleted.length > 0) body.Deleted = deleted;
  if (errors.length > 0) body.Error = errors;
  return body;
}
