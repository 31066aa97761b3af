import type { Readable } from 'node:stream';

/** Where an upload's received bytes are, as the blob store records them (kept in the index). */
export type Staging = string | null;

export interface PutBlobOptions {
  /** A new id (from `newBlobId`); blobs are immutable and never overwritten. */
  readonly blobId: string;
  readonly body: AsyncIterable<Buffer>;
  /** Length when known up front; a body of unknown length is streamed in bounded pieces. */
  readonly size: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface ReadBlobOptions {
  readonly blobId: string;
  /** First and last byte (inclusive); `size` is the length the index recorded. */
  readonly start: number;
  readonly end: number;
  readonly size: number;
  readonly signal?: AbortSignal | undefined;
}

export interface AppendChunkOptions {
  readonly uploadId: string;
  readonly staging: Staging;
  /** Where the chunk starts: the bytes before it are those `staging` holds. */
  readonly offset: number;
  readonly length: number;
  /** The chunk holds the upload's last byte. */
  readonly last: boolean;
  /** From the index's claim when `chunkNeedsPart` said so. */
  readonly partNumber: number | undefined;
  readonly body: AsyncIterable<Buffer>;
  readonly signal?: AbortSignal | undefined;
}

/** Response headers a store's own answer should give in place of its defaults (a presigned URL's overrides). */
export interface ServedHeaders {
  readonly contentType: string;
  readonly contentDisposition: string | undefined;
  readonly cacheControl: string;
}

/**
 * Where a read can get a blob's bytes without them passing through the server: its file under
 * the blob directory (for a proxy that sends files itself), or a short-lived URL of the store.
 */
export type BlobLocation = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'url'; readonly url: string };

export interface LocateBlobOptions {
  readonly blobId: string;
  /** The length the index recorded: a blob that holds another is refused, as by `read`. */
  readonly size: number;
  /** How long a URL stays valid, in seconds. */
  readonly expiresInSeconds: number;
  readonly headers: ServedHeaders;
}

/** Raised by `read` when the blob is gone (an overwrite's GC won the race): look the key up again. */
export class BlobNotFoundError extends Error {
  constructor(readonly blobId: string) {
    super(`blob ${blobId} is gone`);
    this.name = 'BlobNotFoundError';
  }
}

/**
 * Immutable blobs under generated ids, and the staging of resumable uploads. The index decides
 * what exists; a blob store never lists keys for the API. Implementations: files in the data
 * directory (embedded) and an S3-compatible bucket (scale-out); one contract suite runs over both.
 */
export interface BlobStore {
  /**
   * How long a replaced blob must outlive its index row so that reads which already looked it up
   * finish: 0 when an open read keeps the bytes (files), longer for an object store.
   */
  readonly replacedBlobGraceMs: number;
  newBlobId(): string;
  /** Refuses (e.g. 507 on a full disk) a write of `bytes` before any of its body is read. */
  admit(bytes: number | undefined): Promise<void>;
  /** Stores a new blob; it is durable when this resolves. An aborted or failed put leaves nothing. */
  put(options: PutBlobOptions): Promise<void>;
  /** Streams bytes start..end; rejects with BlobNotFoundError when the blob is gone. */
  read(options: ReadBlobOptions): Promise<Readable>;
  /**
   * Where the blob can be read from without this server (read offload, http/read-offload.ts);
   * absent when the store has no such place. The blob may be gone by the time it is used only
   * after `replacedBlobGraceMs`.
   */
  locate?(options: LocateBlobOptions): Promise<BlobLocation>;
  /** For a store whose `locate` answers URLs: their origin (scheme, host and port). */
  urlOrigin?(): Promise<string>;
  /** Removes a blob; removing one that is already gone succeeds. */
  delete(blobId: string): Promise<void>;
  /** The size of a stored blob, or undefined when there is none (a migration skips blobs already copied). */
  blobSize(blobId: string): Promise<number | undefined>;

  /** Whether the chunk will be written as a part that needs a fresh part number. */
  chunkNeedsPart(options: { staging: Staging; length: number; last: boolean }): boolean;
  /** Stores a chunk durably after the bytes `staging` holds; returns the new staging. */
  appendChunk(options: AppendChunkOptions): Promise<Staging>;
  /** Bytes the staging actually holds: less than recorded means a lost tail to be resent. */
  heldBytes(options: { uploadId: string; staging: Staging; recorded: number }): Promise<number>;
  /**
   * The first `length` staged bytes. A store that has it gets its sessions' running hashes kept
   * natively in memory and rebuilt from these bytes when lost (a restart); one without it (S3)
   * has the portable hash-wasm state kept in the index instead.
   */
  readStaged?(options: { uploadId: string; staging: Staging; length: number }): Readable;
  /** Makes the staged bytes (exactly `size` of them) a blob; returns its id and the new staging. */
  assemble(options: { uploadId: string; staging: Staging; size: number }): Promise<{ blobId: string; staging: Staging }>;
  /** After an assembled blob's commit failed (e.g. 412): keeps the upload resumable. */
  releaseAssembled(options: { uploadId: string; blobId: string; staging: Staging }): Promise<void>;
  /** After the commit that adopted the assembled blob: removes what staging is left, not the blob. */
  finishUpload(options: { uploadId: string; staging: Staging }): Promise<void>;
  /** Cancel or expiry: removes every staged byte (and an assembled blob no row adopted). */
  discardUpload(options: { uploadId: string; staging: Staging }): Promise<void>;

  /**
   * Removes blobs and staging that nothing knows of and that are older than `graceMs` (a write
   * in progress has not committed its row yet). Safe on many servers at once.
   */
  sweepOrphans(options: {
    /** Those of the ids that the index still names; called with batches of up to 1000. */
    knownBlobs: (blobIds: readonly string[]) => Promise<Set<string>>;
    isUploadOpen: (uploadId: string) => Promise<boolean>;
    now: number;
    graceMs: number;
  }): Promise<number>;
  /** Called when a commit failed for lack of space: frees reserved room; true when it did. */
  relieveSpace(): Promise<boolean>;
  /** Resolves when the store can serve; rejects (promptly) when it cannot. */
  checkReady(): Promise<void>;
  close(): Promise<void>;
}
