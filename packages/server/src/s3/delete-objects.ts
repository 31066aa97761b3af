import { MAX_DELETE_MANY_KEYS } from 'stowage-client/protocol';
import type { AppContext } from '../http/context.js';
import type { Principal } from '../storage/bucket-model.js';
import { toS3Error } from './error-handler.js';
import { S3Error, s3Errors } from './errors.js';
import { assertValidKey } from './object-key.js';
import { parseXmlBody } from './xml.js';

/**
 * DeleteObjects: up to 1000 keys in one index transaction; a missing key counts as deleted, as in
 * S3. An object named with a `VersionId` is that version, removed for good as DeleteObject with a
 * version id removes it (one at a time, each judged on its own key).
 */
export async function deleteObjects(ctx: AppContext, principal: Principal, bucket: string, xml: string): Promise<Record<string, unknown>> {
  const request = parseXmlBody(xml, 'Delete');
  const objects = (request.Object ?? []) as Array<{ Key?: unknown; VersionId?: unknown }>;
  if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_DELETE_MANY_KEYS) throw s3Errors.malformedXml();
  const quiet = String(request.Quiet ?? 'false').trim() === 'true';
  const keyOf = (object: { Key?: unknown }) => (typeof object.Key === 'string' ? object.Key : '');
  const versioned = objects.filter((object) => object !== null && typeof object === 'object' && object.VersionId !== undefined);
  const keys = objects.filter((object) => !versioned.includes(object)).map(keyOf);
  const deleted: unknown[] = [];
  const errors: unknown[] = [];
  const location = await ctx.access.unjudged(principal, bucket);
  const { tenant, type } = location;
  if (keys.length > 0) {
    // Each key is judged on its own: a grant of a prefix (or a key's scope) covers the keys under it only.
    const refused = keys.filter((key) => !ctx.access.allows(principal, location, 'object:delete', key));
    const { results } = await ctx.prefixes.deleteKeys(tenant, type, keys, new Set(refused));
    for (const result of results) {
      if (!result.deleted && result.code === 'InvalidKey')
        errors.push({ Key: result.key, Code: 'InvalidArgument', Message: result.message });
      else if (!result.deleted && result.code === 'AccessDenied')
        errors.push({ Key: result.key, Code: 'AccessDenied', Message: 'Access Denied' });
      else if (!quiet) deleted.push({ Key: result.key });
    }
  }
  for (const object of versioned) {
    const key = keyOf(object);
    const versionId = String(object.VersionId);
    try {
      assertValidKey(key);
      if (!ctx.access.allows(principal, location, 'object:delete', key)) throw new S3Error('AccessDenied', 'Access Denied');
      const removed = await ctx.retention.removeVersion({ tenant, type, key }, versionId);
      if (removed.outcome === 'missing') throw new S3Error('NoSuchVersion', 'The specified version does not exist.');
      if (quiet) continue;
      deleted.push(
        removed.outcome === 'removed-marker'
          ? { Key: key, VersionId: versionId, DeleteMarker: true, DeleteMarkerVersionId: versionId }
          : { Key: key, VersionId: versionId },
      );
    } catch (error) {
      const s3 = toS3Error(error as Error);
      if (s3.status >= 500 && s3.code !== 'NotImplemented') throw error;
      errors.push({ Key: key, VersionId: versionId, Code: s3.code, Message: s3.message });
    }
  }
  const body: Record<string, unknown> = {};
  if (deleted.length > 0) body.Deleted = deleted;
  if (errors.length > 0) body.Error = errors;
  return body;
}
