import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { ServerConfig } from '../../src/config.js';

/** What a deployment holds besides its index: what tests check for leftovers. */
export interface StoredFiles {
  /** Writes in progress or abandoned: temp files, or unfinished S3 multipart uploads. */
  readonly temp: string[];
  /** Blobs (files under blobs/, or objects under PREFIX/blobs/). */
  readonly blobs: string[];
  /** Resumable upload bytes not yet an object (part files, or staged objects). */
  readonly parts: string[];
}

/** Lists the blob store of a server configured by `config`, whichever deployment it is. */
export async function storedFiles(config: Pick<ServerConfig, 'dataDir' | 'blobs'>): Promise<StoredFiles> {
  const { blobs } = config;
  if (blobs.kind === 'files') {
    const list = (dir: string) => readdir(path.join(config.dataDir, dir), { recursive: true, withFileTypes: true }).catch(() => []);
    const names = async (dir: string) => (await list(dir)).filter((entry) => entry.isFile()).map((entry) => entry.name);
    return { temp: await names('tmp'), blobs: await names('blobs'), parts: await names('uploads') };
  }
  const s3 = new S3Client({
    endpoint: blobs.endpoint,
    region: blobs.region,
    forcePathStyle: blobs.forcePathStyle,
    credentials: blobs.credentials,
  });
  try {
    const root = blobs.prefix ? `${blobs.prefix}/` : '';
    const keys = async (prefix: string) => {
      const found: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: blobs.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const item of page.Contents ?? []) found.push((item.Key ?? '').slice(prefix.length));
        token = page.NextContinuationToken;
      } while (token);
      return found;
    };
    const multipart = await s3.send(new ListMultipartUploadsCommand({ Bucket: blobs.bucket, Prefix: root }));
    const unfinished = (multipart.Uploads ?? []).map((upload) => upload.Key ?? '');
    return { temp: unfinished, blobs: await keys(`${root}blobs/`), parts: await keys(`${root}uploads/`) };
  } finally {
    s3.destroy();
  }
}
