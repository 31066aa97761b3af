import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { fail, isStowageError } from '../../errors.js';
import {
  type AppendChunkOptions,
  type BlobLocation,
  BlobNotFoundError,
  type BlobStore,
  type LocateBlobOptions,
  type PutBlobOptions,
  type ReadBlobOptions,
  type Staging,
} from '../blob-store.js';
import { S3Bucket } from './s3-bucket.js';
import { createS3Client, DEFAULT_TIMEOUT_MS, describeEndpoint, type S3ConnectionOptions } from './s3-client.js';
import { describe, mapStoreError, openError } from './s3-errors.js';
import { S3Layout } from './s3-layout.js';
import { KeyPresigner } from './s3-presigner.js';
import { putBlob } from './s3-put.js';
import { type SweepOptions, sweepOrphans } from './s3-sweep.js';
import { S3Uploads } from './s3-uploads.js';

export interface S3BlobStoreOptions extends S3ConnectionOptions {
  readonly bucket: string;
  /** Key prefix inside the bucket ('' for none); slashes around it are ignored. */
  readonly prefix: string;
  /** The endpoint clients reach the store at, for presigned URLs (default: `endpoint`). */
  readonly publicEndpoint?: string | undefined;
}

/** How long readiness waits for the bucket to answer. */
const READY_TIMEOUT_MS = 5_000;

/**
 * Blobs in an S3-compatible bucket (AWS S3, Ceph RGW, MinIO): `{prefix}/blobs/{id}`, written
 * once and read by ranged GETs; resumable uploads staged under `{prefix}/uploads/` and in
 * multipart uploads (see S3Uploads). A store that does not answer gives 503 StorageUnavailable.
 */
export class S3BlobStore implements BlobStore {
  /** A read that looked its row up before an overwrite may still be opening the old blob. */
  readonly replacedBlobGraceMs = 60_000;
  private readonly bucket: S3Bucket;
  private readonly layout: S3Layout;
  private readonly uploads: S3Uploads;
  /** Signs URLs for the endpoint clients use; made on first use (it opens no connection). */
  private presigner: KeyPresigner | undefined;
  private presignClient: S3Client | undefined;

  private constructor(
    client: S3Client,
    private readonly options: S3BlobStoreOptions,
  ) {
    this.bucket = new S3Bucket(client, options.bucket, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.layout = new S3Layout(options.prefix);
    this.uploads = new S3Uploads(this.bucket, this.layout, () => this.newBlobId());
  }

  /**
   * Connects and checks the bucket (HeadBucket), failing fast with a readable reason: a missing
   * bucket, refused credentials or an endpoint that does not answer.
   */
  static async open(options: S3BlobStoreOptions): Promise<S3BlobStore> {
    const client = createS3Client(options);
    const store = new S3BlobStore(client, options);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      await store.bucket.headBucket(signal);
    } catch (error) {
      client.destroy();
      const where = describeEndpoint(options);
      if (signal.aborted) throw new Error(`cannot reach S3 at ${where}: no answer within ${timeoutMs} ms`);
      throw openError(error, { bucket: options.bucket, where, region: options.region ?? 'us-east-1', chain: !options.credentials });
    }
    return store;
  }

  newBlobId(): string {
    return randomBytes(16).toString('hex');
  }

  /** An object store has no disk to fill. */
  async admit(): Promise<void> {}

  put(options: PutBlobOptions): Promise<void> {
    return putBlob(this.bucket, this.layout.blobKey(options.blobId), options);
  }

  async read({ blobId, start, end, size, signal }: ReadBlobOptions): Promise<Readable> {
    if (size === 0 || end < start) return Readable.from([]);
    const got = await this.bucket.get(this.layout.blobKey(blobId), { start, end, signal });
    if (!got) throw new BlobNotFoundError(blobId);
    // A blob of another length than its row would go out as a 200 that ends early: refuse it whole.
    const total = /\/(\d+)$/.exec(got.contentRange ?? '')?.[1];
    const held = total !== undefined ? Number(total) : got.length !== undefined && start === 0 ? got.length : undefined;
    if ((held !== undefined && held !== size) || (got.length !== undefined && got.length !== end - start + 1)) {
      got.body.destroy();
      throw new Error(`blob ${blobId} holds ${held ?? 'another number of'} bytes, not ${size}`);
    }
    return got.body;
  }

  /** A presigned GET of the blob, answering with the object's own Content-Type and the rest. */
  async locate({ blobId, expiresInSeconds, headers }: LocateBlobOptions): Promise<BlobLocation> {
    const presigner = this.presignerForClients();
    const query: Record<string, string> = {
      'response-content-type': headers.contentType,
      'response-cache-control': headers.cacheControl,
    };
    if (headers.contentDisposition !== undefined) query['response-content-disposition'] = headers.contentDisposition;
    return { kind: 'url', url: await presigner.presignGet(this.layout.blobKey(blobId), expiresInSeconds, query) };
  }

  /** Presigning is local: a URL for a blob that need not exist names the store as any other does. */
  async urlOrigin(): Promise<string> {
    return new URL(await this.presignerForClients().presignGet(this.layout.blobKey('origin-probe'), 60, {})).origin;
  }

  /** The presigner of URLs for clients: at the public endpoint, when there is one. */
  private presignerForClients(): KeyPresigner {
    if (!this.presigner) {
      this.presignClient = createS3Client({ ...this.options, endpoint: this.options.publicEndpoint ?? this.options.endpoint });
      this.presigner = new KeyPresigner(this.presignClient, this.options.bucket);
    }
    return this.presigner;
  }

  delete(blobId: string): Promise<void> {
    return this.bucket.delete(this.layout.blobKey(blobId));
  }

  blobSize(blobId: string): Promise<number | undefined> {
    return this.bucket.size(this.layout.blobKey(blobId));
  }

  chunkNeedsPart(options: { staging: Staging; length: number; last: boolean }): boolean {
    return this.uploads.chunkNeedsPart(options);
  }

  appendChunk(options: AppendChunkOptions): Promise<Staging> {
    return this.uploads.appendChunk(options);
  }

  /** S3 writes are atomic per request: what the staging records is held. */
  async heldBytes({ recorded }: { uploadId: string; staging: Staging; recorded: number }): Promise<number> {
    return recorded;
  }

  assemble(options: { uploadId: string; staging: Staging; size: number }): Promise<{ blobId: string; staging: Staging }> {
    return this.uploads.assemble(options);
  }

  releaseAssembled(options: { uploadId: string; blobId: string; staging: Staging }): Promise<void> {
    return this.uploads.releaseAssembled(options);
  }

  finishUpload(options: { uploadId: string; staging: Staging }): Promise<void> {
    return this.uploads.finishUpload(options);
  }

  discardUpload(options: { uploadId: string; staging: Staging }): Promise<void> {
    return this.uploads.discardUpload(options);
  }

  sweepOrphans(options: SweepOptions): Promise<number> {
    return sweepOrphans(this.bucket, this.layout, options);
  }

  async relieveSpace(): Promise<boolean> {
    return false;
  }

  async checkReady(): Promise<void> {
    const timeoutMs = Math.min(READY_TIMEOUT_MS, this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      await this.bucket.headBucket(signal);
    } catch (error) {
      if (signal.aborted) throw fail('StorageUnavailable', `The blob store does not answer within ${timeoutMs} ms`, { 'retry-after': '2' });
      if (isStowageError(error)) throw error;
      const mapped = mapStoreError(error);
      if (mapped !== error) throw mapped;
      throw fail('StorageUnavailable', `The blob store refuses bucket ${this.options.bucket}: ${describe(error)}`, { 'retry-after': '2' });
    }
  }

  async close(): Promise<void> {
    this.bucket.client.destroy();
    this.presignClient?.destroy();
  }
}
