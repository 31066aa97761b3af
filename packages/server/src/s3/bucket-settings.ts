import type { FastifyReply, FastifyRequest } from 'fastify';
import { isStorageType } from 'stowage-client/protocol';
import type { AppContext } from '../http/context.js';
import { type Action, type Bucket, type BucketSettings, EMPTY_BUCKET_SETTINGS, type LifecycleRule } from '../storage/bucket-model.js';
import { parseBucketPolicy, policyStatusBody } from './bucket-policy.js';
import { S3Error, s3Errors } from './errors.js';
import { lifecycleConfigurationBody, noncurrentDaysOf, parseLifecycleConfiguration } from './lifecycle-xml.js';
import { parsePublicAccessBlock, publicAccessBlockBody } from './public-access-block-xml.js';
import { applyVersioning, versioningStatus } from './versions.js';
import { sendXml } from './xml.js';

type ReadBody = () => Promise<string>;
type Operation = (ctx: AppContext, request: FastifyRequest, reply: FastifyReply, bucket: string, readBody: ReadBody) => Promise<unknown>;

/**
 * A named bucket's settings on the S3 API, by query parameter: the bucket policy
 * (Get/Put/DeleteBucketPolicy, GetBucketPolicyStatus), the public access block
 * (Get/Put/DeletePublicAccessBlock) and lifecycle expiry (Get/Put/DeleteBucketLifecycleConfiguration).
 * Only the owner changes or reads them (bucket:configure), as on S3 without IAM.
 */
export const BUCKET_SETTINGS: ReadonlyMap<string, Operation> = new Map<string, Operation>([
  [
    'policy',
    (ctx, request, reply, bucket, readBody) =>
      setting(ctx, request, reply, bucket, readBody, {
        read: (settings) => {
          if (!settings.policy) throw new S3Error('NoSuchBucketPolicy', 'The bucket policy does not exist');
          return reply.code(200).type('application/json').send(settings.policy.text);
        },
        write: (settings, body, current) => ({ ...settings, policy: parseBucketPolicy(body, current.name) }),
        remove: (settings) => ({ ...settings, policy: null }),
        writeStatus: 204,
      }),
  ],
  [
    'policyStatus',
    (ctx, request, reply, bucket, readBody) =>
      setting(ctx, request, reply, bucket, readBody, {
        read: (settings) => {
          if (!settings.policy) throw new S3Error('NoSuchBucketPolicy', 'The bucket policy does not exist');
          return sendXml(reply, 'PolicyStatus', policyStatusBody(settings.policy));
        },
      }),
  ],
  [
    'publicAccessBlock',
    (ctx, request, reply, bucket, readBody) =>
      setting(ctx, request, reply, bucket, readBody, {
        read: (settings) => {
          if (!settings.publicAccessBlock)
            throw new S3Error('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found');
          return sendXml(reply, 'PublicAccessBlockConfiguration', publicAccessBlockBody(settings.publicAccessBlock));
        },
        write: (settings, body) => ({ ...settings, publicAccessBlock: parsePublicAccessBlock(body) }),
        remove: (settings) => ({ ...settings, publicAccessBlock: null }),
        writeStatus: 200,
      }),
  ],
  [
    'versioning',
    (ctx, request, reply, bucket, readBody) =>
      setting(ctx, request, reply, bucket, readBody, {
        read: (settings) => {
          const status = versioningStatus(settings, ctx.config.retentionMs);
          return sendXml(reply, 'VersioningConfiguration', status ? { Status: status } : {});
        },
        write: (settings, body) => applyVersioning(settings, body, ctx.config.retentionMs),
        writeStatus: 200,
      }),
  ],
  [
    'lifecycle',
    (ctx, request, reply, bucket, readBody) =>
      setting(ctx, request, reply, bucket, readBody, {
        read: (settings) => {
          if (settings.lifecycle.length === 0)
            throw new S3Error('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist');
          return sendXml(reply, 'LifecycleConfiguration', lifecycleConfigurationBody(settings.lifecycle));
        },
        write: (settings, body) => withLifecycle(settings, parseLifecycleConfiguration(body), ctx.config.retentionMs),
        // The window a removed NoncurrentVersionExpiration set stays: versions are never kept for ever here.
        remove: (settings) => ({ ...settings, lifecycle: [] }),
        writeStatus: 200,
      }),
  ],
]);

/**
 * A lifecycle configuration in the settings. NoncurrentVersionExpiration (for the whole bucket) is
 * the bucket's retention window: it sets `retentionDays` while the bucket is versioned; otherwise
 * it waits in the rules until PutBucketVersioning enables versioning (applyVersioning).
 */
function withLifecycle(settings: BucketSettings, lifecycle: LifecycleRule[], serverRetentionMs: number): BucketSettings {
  const next = { ...settings, lifecycle };
  const days = noncurrentDaysOf(lifecycle);
  if (days === undefined || versioningStatus(settings, serverRetentionMs) !== 'Enabled') return next;
  return { ...next, retentionDays: days };
}

interface SettingHandlers {
  read: (settings: BucketSettings) => unknown;
  write?: (settings: BucketSettings, body: string, bucket: Bucket) => BucketSettings;
  remove?: (settings: BucketSettings) => BucketSettings;
  writeStatus?: number;
}

async function setting(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  bucket: string,
  readBody: ReadBody,
  handlers: SettingHandlers,
) {
  const action: Action = 'bucket:configure';
  if (isStorageType(bucket)) {
    // A built-in bucket has none of these settings: reading one answers as a bucket without it
    // does (s3cmd info reads the policy and lifecycle of an object's bucket, and takes a 404 as
    // "none"). Setting one is refused.
    await ctx.access.locate(request.principal, bucket, action);
    if (request.method === 'GET') return handlers.read(EMPTY_BUCKET_SETTINGS);
    throw s3Errors.invalidRequest(`${bucket} is one of your private built-in buckets (data, tmp, result): create a bucket to configure`);
  }
  if (request.method === 'GET') {
    // A built-in bucket has none of these settings (tools such as s3cmd ask): its answer is S3's for none.
    const { bucket: named } = await ctx.access.locate(request.principal, bucket, action);
    return handlers.read(named?.settings ?? EMPTY_BUCKET_SETTINGS);
  }
  if (isStorageType(bucket))
    throw s3Errors.invalidRequest(`${bucket} is one of your private built-in buckets (data, tmp, result): create a bucket to configure`);
  const { write, remove } = handlers;
  if (request.method === 'PUT' && write) {
    const body = await readBody();
    await ctx.buckets.change(request.principal, bucket, action, (current) => ({ settings: write(current.settings, body, current) }));
    return reply.code(handlers.writeStatus ?? 200).send();
  }
  if (request.method === 'DELETE' && remove) {
    await ctx.buckets.change(request.principal, bucket, action, (current) => ({ settings: remove(current.settings) }));
    return reply.code(204).send();
  }
  throw s3Errors.notImplemented(`${request.method} on this bucket setting`);
}
