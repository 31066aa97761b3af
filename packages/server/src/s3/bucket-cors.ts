import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.js';
import { corsConfigurationBody, parseCorsConfiguration } from './cors-xml.js';
import { S3Error, s3Errors } from './errors.js';
import { sendXml } from './xml.js';

/**
 * PutBucketCors, GetBucketCors and DeleteBucketCors, by a bucket's owner (a built-in bucket's is
 * its user). The rules judge cross-origin requests to the bucket (s3/cors.ts).
 */
export async function bucketCorsOperation(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  readBody: () => Promise<string>,
) {
  // Reading the rules is as much the owner's as setting them: they say which sites may call.
  const { tenant } = await ctx.access.locate(request.principal, name, 'bucket:configure');
  const bucket = { tenant, type: name };
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
