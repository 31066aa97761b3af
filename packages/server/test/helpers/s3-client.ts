// The AWS SDK for JavaScript v3 as the S3 suites use it against a test server.
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { TestServer } from './test-server.js';

/** A path-style client of the server's /s3 with a new API key of `tenant`, without retries; destroy() it when done. */
export async function s3ClientOf(ts: TestServer, tenant = 'alice', extra: Partial<S3ClientConfig> = {}): Promise<S3Client> {
  const key = await ts.server.createApiKey(tenant);
  return new S3Client({
    endpoint: `${ts.origin}/s3`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: key.clientId, secretAccessKey: key.secret },
    maxAttempts: 1,
    ...extra,
  });
}

/** How an S3 command failed: S3's code, the HTTP status and the message. */
export interface S3Failure {
  code: string;
  status: number | undefined;
  message: string;
}

/** The failure of a command; undefined when it succeeded. */
export async function s3FailureOf(promise: Promise<unknown>): Promise<S3Failure | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    const e = error as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
    return { code: e.Code ?? e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
}

/** The code and status of a command's failure; undefined when it succeeded. */
export async function s3CodeOf(promise: Promise<unknown>): Promise<{ code: string; status: number | undefined } | undefined> {
  const failed = await s3FailureOf(promise);
  return failed && { code: failed.code, status: failed.status };
}

/** Asserts a command fails with this code and status, and gives the failure. */
export async function assertS3Fails(promise: Promise<unknown>, code: string, status: number): Promise<S3Failure> {
  const got = await s3FailureOf(promise);
  if (!got) throw new Error(`the command succeeded; ${code} (${status}) was expected`);
  if (got.code !== code || got.status !== status)
    throw new Error(`expected ${code} (${status}), got ${got.code} (${got.status}): ${got.message}`);
  return got;
}
