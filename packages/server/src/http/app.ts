import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { Headers } from 'stowage-client/protocol';
import { fail } from '../errors.js';
import { registerS3Preflights } from '../s3/cors.js';
import { registerS3 } from '../s3/routes.js';
import { Admission } from './admission.js';
import { createAuthenticate } from './authenticate.js';
import { timeOutStalledParsedBodies } from './body-idle.js';
import { passBodiesThrough } from './body-passthrough.js';
import { registerConsole } from './console.js';
import type { AppContext } from './context.js';
import { handleClientError, handleError } from './error-handler.js';
import { createFastRead, takeFastReadFailure } from './fast-read.js';
import { createHttpServer } from './http-server.js';
import { parseJsonBodies } from './json-bodies.js';
import { recordRequest } from './metrics.js';
import { createRequestIds } from './request-id.js';
import { lazyChildLogger } from './request-logger.js';
import { registerApiKeyRoutes } from './routes/api-keys.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerBucketRoutes } from './routes/buckets.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerListRoutes } from './routes/list.js';
import { registerObjectRoutes } from './routes/objects.js';
import { BATCH_BODY_LIMIT, registerPrefixOperations, registerPrefixUsage } from './routes/prefixes.js';
import { registerRetentionRoutes } from './routes/retention.js';
import { registerSignedDownloads, registerSignedUrlIssuing, SIGNED_PATH } from './routes/signed.js';
import { registerUploads, registerUploadUrlIssuing, UPLOAD_PATH } from './routes/uploads.js';
import { registerUsageRoute } from './routes/usage.js';
import { closeStalledResponses } from './send-idle.js';
import { registerSignedUrlCors } from './signed-url-cors.js';
import { assertKnownTransferCoding } from './transfer-coding.js';

/** Builds the HTTP app; it does not listen. Tests and main.ts both start it from here. */
export function buildApp(ctx: AppContext, logger: FastifyBaseLogger): FastifyInstance {
  const admission = new Admission(ctx.config.maxInFlight, ctx.metrics);
  const requestId = createRequestIds();
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: !ctx.config.accessLog }),
    serverFactory: createHttpServer(ctx.config, createFastRead(ctx, { admission, requestId })),
    // The Python client sends a fresh X-Request-Group per call: when well-formed, the request id.
    requestIdHeader: false,
    genReqId: requestId,
    trustProxy: ctx.config.trustProxy,
    // Keys are up to 1024 bytes, i.e. up to 3072 characters once percent-encoded.
    routerOptions: { maxParamLength: 8192 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Errors raised before routing (a malformed escape in the path) get the same JSON shape.
    frameworkErrors: (error, request, reply) => handleError(error, request, reply),
    clientErrorHandler: handleClientError,
    childLoggerFactory: lazyChildLogger,
  });

  app.decorateRequest('tenant', '');
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request) => {
    throw fail('RouteNotFound', `No route for ${request.method} ${request.url.split('?')[0]}`);
  });

  // What every request goes through is one hook taking `done`, not one async hook per concern:
  // each async hook costs a promise and a microtask turn, and each hook a step of Fastify's hook
  // runner, which shows on small GETs (docs/BENCHMARKS.md).
  app.addHook('onRequest', (request, reply, done) => {
    reply.header(Headers.requestId, request.id);
    try {
      admission.admit(request.url, reply.raw);
      assertKnownTransferCoding(request);
    } catch (error) {
      done(error as Error);
      return;
    }
    // The fast read path met an error on this request (fast-read.ts): the answer is that error.
    const failure = takeFastReadFailure(request.raw);
    done(failure === undefined ? undefined : (failure as Error));
  });
  closeStalledResponses(app, ctx.config.sendIdleTimeoutMs);
  app.addHook('onResponse', (request, reply, done) => {
    recordRequest(ctx.metrics, request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  registerHealthRoutes(app, ctx);
  registerConsole(app, ctx.config, ctx.redirectOrigin);
  app.register(async (scope) => {
    timeOutStalledParsedBodies(scope, ctx.config.bodyIdleTimeoutMs);
    registerAuthRoutes(scope, ctx);
  });
  app.register(async (api) => {
    passBodiesThrough(api);
    api.addHook('onRequest', createAuthenticate(ctx));
    registerObjectRoutes(api, ctx);
    registerListRoutes(api, ctx);
    registerSignedUrlIssuing(api, ctx);
    registerUploadUrlIssuing(api, ctx);
    registerUsageRoute(api, ctx);
    registerPrefixUsage(api, ctx);
  });
  app.register(async (batches) => {
    parseJsonBodies(batches, BATCH_BODY_LIMIT);
    timeOutStalledParsedBodies(batches, ctx.config.bodyIdleTimeoutMs);
    batches.addHook('onRequest', createAuthenticate(ctx));
    registerPrefixOperations(batches, ctx);
    registerRetentionRoutes(batches, ctx);
    registerBucketRoutes(batches, ctx);
    registerApiKeyRoutes(batches, ctx);
  });
  app.register(async (s3) => registerS3(s3, ctx));
  app.register(async (preflights) => registerS3Preflights(preflights, ctx));
  app.register(async (signed) => {
    passBodiesThrough(signed);
    registerSignedUrlCors(signed, ctx, [SIGNED_PATH, UPLOAD_PATH]);
    registerSignedDownloads(signed, ctx);
    registerUploads(signed, ctx);
  });
  return app;
}
