import type { FastifyReply, FastifyRequest } from 'fastify';
import type { StorageType } from 'stowage-client/protocol';
import type { AppContext } from '../http/context.js';
import { corsConfigurationBody, parseCorsConfiguration } from './cors-xml.js';
import { S3Error, s3Errors } from './errors.js';
import { sendXml } from './xml.js';

/**
 * PutBucketCors, GetBucketCors and DeleteBucketCors on one of the caller's buckets. The rules
 * judge cross-origin requests whose credential names this tenant's keys (s3/cors.ts).
 */
export async function bucketCorsOperation(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  type: StorageType,
  readBody: () => Promise<string>,
) {
  const bucket = { tenant: request.tenant, type };
  switch (request.method) {
    case 'PUT':
      await ctx.bucketCors.set(bucket, parseCorsConfiguration(await readBody()));
      return reply.code(200).send();
    case 'GET': {
      const rules = await ctx.bucketCors.rules(bucket);
      if (!rules) throw new S3Error('NoSuchCORSConfiguration', 'The CORS configuration does not exist');
      return sendXml(reply, 'CORSConfiguration', corsConfigurationBody(rules));
    }
    case 'DELETE':
      await ctx.bucketCors.remove(bucket);
      return reply.code(204).send();
    default:
      throw s3Errors.notImplemented(`${request.method} ?cors`);
  }
}
