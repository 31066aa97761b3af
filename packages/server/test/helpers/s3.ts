import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';

/** The bucket every test shares; each test works under a prefix of its own. */
export const TEST_BUCKET = 'stowage-test';

/** A fresh prefix in the test bucket, for one test server or blob store. */
export interface S3Prefix {
  /** From STOWAGE_TEST_S3_ENDPOINT, STOWAGE_TEST_S3_REGION (default us-east-1) and the keys. */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly bucket: string;
  /** `t-<hex>`: no slashes around it. */
  readonly prefix: string;
  /** Removes every object and multipart upload under the prefix. */
  drop(): Promise<void>;
}

/** The test store's settings; undefined when STOWAGE_TEST_S3_ENDPOINT is unset. */
export function testS3Settings(): Omit<S3Prefix, 'prefix' | 'drop'> | undefined {
  const endpoint = process.env.STOWAGE_TEST_S3_ENDPOINT;
  const accessKeyId = process.env.STOWAGE_TEST_S3_ACCESS_KEY;
  const secretAccessKey = process.env.STOWAGE_TEST_S3_SECRET_KEY;
  if (!endpoint || !accessKeyId || !secretAccessKey) return undefined;
  return { endpoint, region: process.env.STOWAGE_TEST_S3_REGION || 'us-east-1', accessKeyId, secretAccessKey, bucket: TEST_BUCKET };
}

/** Why S3 tests are skipped, for `{ skip }`; false when the test store is configured. */
export const s3Unavailable: string | false = testS3Settings()
  ? false
  : 'STOWAGE_TEST_S3_ENDPOINT, STOWAGE_TEST_S3_ACCESS_KEY and STOWAGE_TEST_S3_SECRET_KEY are unset (scripts/services/rgw-start.sh prints them)';

/** A client of the test store with the settings Ceph RGW needs. */
export function testS3Client(settings: Omit<S3Prefix, 'prefix' | 'drop'>): S3Client {
  return new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: true,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * Creates the bucket `stowage-test` if it is missing and picks a unique prefix in it; undefined
 * when the STOWAGE_TEST_S3_* variables are unset (start a store with scripts/services/rgw-start.sh).
 */
export async function freshS3Prefix(): Promise<S3Prefix | undefined> {
  const settings = testS3Settings();
  if (!settings) return undefined;
  const client = testS3Client(settings);
  try {
    await ensureBucket(client, settings.bucket);
  } finally {
    client.destroy();
  }
  const prefix = `t-${randomBytes(8).toString('hex')}`;
  return {
    ...settings,
    prefix,
    async drop() {
      const dropClient = testS3Client(settings);
      try {
        await emptyPrefix(dropClient, settings.bucket, `${prefix}/`);
      } finally {
        dropClient.destroy();
      }
    },
  };
}

async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw error;
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    // Another test process made it first.
    const name = (error as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }
}

/** Deletes every object and aborts every multipart upload under `prefix`. */
export async function emptyPrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    await Promise.all((page.Contents ?? []).map((object) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }))));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  await Promise.all(
    (uploads.Uploads ?? []).map((upload) =>
      client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId })),
    ),
  );
}
