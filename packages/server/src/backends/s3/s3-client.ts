import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface S3ConnectionOptions {
  readonly endpoint?: string | undefined;
  /** Default us-east-1 (the region Ceph RGW and most S3-compatible stores accept). */
  readonly region?: string | undefined;
  /** Path-style addressing; default: true when an endpoint is given (RGW, MinIO), else false. */
  readonly forcePathStyle?: boolean | undefined;
  /** Static keys; undefined to use the AWS default credential chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /**
   * The longest the store may leave one operation waiting (default 30 s): S3Bucket bounds each
   * operation by it, the SDK's retries included; here it also bounds connecting.
   */
  readonly timeoutMs?: number | undefined;
  /**
   * Longest silence on a connection while a body streams (an upload fed by a slow client, a
   * download read by one); default 120 s, above the server's body and send idle timeouts so
   * that those speak first.
   */
  readonly streamIdleTimeoutMs?: number | undefined;
  /** Attempts per request, retries included, for requests whose body can be sent again (default 3). */
  readonly maxAttempts?: number | undefined;
  /** Connections kept open to the store (default 512): every streamed read or write holds one. */
  readonly maxSockets?: number | undefined;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 120_000;

/** The SDK's warnings (e.g. on a streamed request that failed) go nowhere: the caller reports the error. */
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * An S3 client for S3Bucket, which bounds each operation by one deadline (`timeoutMs`) across
 * the SDK's attempts: no attempt has a deadline of its own, which would multiply it by the
 * attempts. Connections must open within 5 s (an attempt that cannot connect is retried within
 * the deadline), and a connection may not stay silent longer than `streamIdleTimeoutMs`, a
 * backstop for streams a slow client holds. Checksums only where the API requires them (Ceph
 * RGW 16 refuses the SDK's default aws-chunked stream bodies with 411).
 */
export function createS3Client(options: S3ConnectionOptions): S3Client {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // An idle pooled connection is closed after 5 s (as Node's global agent does), before the store
  // closes it: a streamed body is sent once, so it must not go out on a connection just closed.
  const agent = { keepAlive: true, timeout: 5_000, maxSockets: options.maxSockets ?? 512 };
  return new S3Client({
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    region: options.region ?? 'us-east-1',
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    ...(options.credentials && {
      credentials: { accessKeyId: options.credentials.accessKeyId, secretAccessKey: options.credentials.secretAccessKey },
    }),
    maxAttempts: options.maxAttempts ?? 3,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    logger: quiet,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(CONNECT_TIMEOUT_MS, timeout),
      socketTimeout: Math.max(timeout, options.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS),
      httpAgent: agent,
      httpsAgent: agent,
    }),
  });
}

/** How the store is named in messages: its endpoint, or AWS and the region. */
export function describeEndpoint(options: S3ConnectionOptions): string {
  return options.endpoint ?? `AWS S3 (${options.region ?? 'us-east-1'})`;
}
