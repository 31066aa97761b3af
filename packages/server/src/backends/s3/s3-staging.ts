import type { Staging } from '../blob-store.js';

/** A part of the upload's multipart upload, as UploadPart acknowledged it. */
export interface StagedPart {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
}

/** A chunk stored as its own object under `uploads/{uploadId}/`, not yet in a part. */
export interface StagedObject {
  readonly name: string;
  readonly size: number;
}

/**
 * What the index keeps for a resumable upload on S3 (as JSON in its staging column). S3 parts
 * must be at least 5 MiB except the last, and chunks are often smaller (GCS clients send
 * multiples of 256 KiB), so small chunks are stored as objects of their own (`staged`) until
 * they and the next chunk make a part; the part's body is those objects' bytes and the chunk's.
 */
export interface S3Staging {
  /** The S3 multipart upload, created with the first part. */
  readonly multipartId?: string | undefined;
  /** The blob the multipart upload writes (`blobs/{blobId}`), chosen with the first part. */
  readonly blobId?: string | undefined;
  /** Parts in the order of their bytes (their part numbers ascend). */
  readonly parts: readonly StagedPart[];
  /** Chunks after the last part, in the order of their bytes. */
  readonly staged: readonly StagedObject[];
  /**
   * Staged objects the last part copied: the session has moved past them, so the next chunk
   * removes them (not the chunk that made the part: a request that lost the session to a newer
   * one may still be reading them).
   */
  readonly consumed?: readonly string[] | undefined;
  /** Set by `assemble`: `blobs/{blobId}` holds every byte. */
  readonly assembled?: boolean | undefined;
}

const EMPTY: S3Staging = { parts: [], staged: [] };

export function parseStaging(staging: Staging): S3Staging {
  if (staging === null || staging === '') return EMPTY;
  let value: unknown;
  try {
    value = JSON.parse(staging);
  } catch {
    throw new Error(`upload staging is not JSON: ${staging.slice(0, 80)}`);
  }
  const record = value as Partial<S3Staging> | null;
  if (!record || typeof record !== 'object' || !Array.isArray(record.parts) || !Array.isArray(record.staged)) {
    throw new Error(`upload staging is not an S3 staging record: ${staging.slice(0, 80)}`);
  }
  return record as S3Staging;
}

export function serializeStaging(staging: S3Staging): string {
  const { multipartId, blobId, parts, staged, consumed, assembled } = staging;
  return JSON.stringify({
    ...(multipartId !== undefined && { multipartId }),
    ...(blobId !== undefined && { blobId }),
    parts,
    staged,
    ...(consumed && consumed.length > 0 && { consumed }),
    ...(assembled && { assembled }),
  });
}

export function partBytes(staging: S3Staging): number {
  return staging.parts.reduce((sum, part) => sum + part.size, 0);
}

export function stagedBytes(staging: S3Staging): number {
  return staging.staged.reduce((sum, object) => sum + object.size, 0);
}
