import type { ApiKeyStore } from '../auth/api-keys.js';
import type { ListPage, ObjectInfo, ObjectRef, TenantUsage, UploadGrantInfo, WriteCondition } from './backend.js';

/**
 * One object as the index holds it. `blobId` names its bytes in the blob store; small values
 * live in the row itself (`inline`), and an empty object has neither.
 */
export interface IndexRow {
  readonly size: number;
  /** Hex sha256 of the content; the ETag is derived from it. */
  readonly sha256: string;
  readonly contentType: string;
  /** Milliseconds since the epoch. */
  readonly lastModified: number;
  /** Milliseconds since the epoch; null when the object never expires. */
  readonly expiresAt: number | null;
  readonly blobId: string | null;
  readonly inline: Buffer | null;
}

/** A resumable upload session as the index keeps it, so any server can take its next chunk. */
export interface UploadRecord {
  readonly uploadId: string;
  readonly ref: ObjectRef;
  readonly contentType: string;
  /** When the upload URL, and so the session, expires (ms). */
  readonly expiresAt: number;
  /** Bytes 0..received-1 are held by the blob store. */
  readonly received: number;
  /** Total size once a chunk declared it. */
  readonly total: number | undefined;
  /** Set once the upload completed: the stored object. */
  readonly completed: ObjectInfo | undefined;
  readonly cancelled: boolean;
  /** Serialized running sha256 of bytes 0..received-1 (hash-wasm state); null before any byte. */
  readonly hashState: Buffer | null;
  /** The blob store's own record of where the received bytes are (opaque JSON); null before any. */
  readonly staging: string | null;
  /** Bumped by every claim: a chunk's progress commits only while its claim is the newest. */
  readonly attempt: number;
}

/** A claim on a session for one chunk: `attempt` fences it, `partNumber` is unique to it. */
export interface UploadClaim {
  readonly attempt: number;
  /** A part number no other claim on this session got (1..10000); only when one was asked for. */
  readonly partNumber: number | undefined;
}

/** The write an index commits in one transaction. */
export interface PutRowOptions {
  readonly ref: ObjectRef;
  readonly row: IndexRow;
  /** Checked against the current row, visible at `now`; 412 PreconditionFailed when not met. */
  readonly condition: WriteCondition | undefined;
  readonly now: number;
  /** Ends this upload session in the same commit; fails if it already ended or was cancelled. */
  readonly completesUpload?: string | undefined;
  /** The replaced blob is queued for deletion no earlier than this instant (ms). */
  readonly collectAfter: number;
}

export interface RemoveRowOptions {
  readonly ref: ObjectRef;
  readonly now: number;
  readonly condition: WriteCondition | undefined;
  /** The removed blob is queued for deletion no earlier than this instant (ms). */
  readonly collectAfter: number;
}

export interface ListRowsOptions {
  readonly tenant: string;
  readonly type: ObjectRef['type'];
  readonly prefix: string;
  /** Only keys after this one (exclusive), in UTF-8 byte order. */
  readonly after: string | undefined;
  readonly limit: number;
  /** Rows expired at or before this instant are not listed. */
  readonly now: number;
}

/** Progress of one chunk, committed only if `attempt` is still the session's newest claim. */
export interface AdvanceUploadOptions {
  readonly uploadId: string;
  readonly attempt: number;
  readonly received: number;
  readonly total: number | undefined;
  readonly hashState: Buffer | null;
  readonly staging: string | null;
}

/**
 * The source of truth for which key holds which value: existence, listing, expiry, conditions,
 * quotas, upload sessions, API keys and the queue of blobs to delete. Every write is one
 * transaction, linearizable per key across every server that shares the index. Implementations:
 * SQLite (embedded) and PostgreSQL (scale-out); one contract suite runs over both.
 */
export interface ObjectIndex {
  /** The row of `ref` visible at `now` (not expired). */
  find(options: { ref: ObjectRef; now: number }): Promise<IndexRow | undefined>;
  /**
   * Stores `row` under `ref` in one transaction that checks the condition and the tenant's quota
   * (QuotaExceeded), charges the usage, optionally ends an upload session, and queues the
   * replaced blob for deletion.
   */
  put(options: PutRowOptions): Promise<void>;
  /** Removes the row; false when none was visible. Its blob is queued for deletion. */
  remove(options: RemoveRowOptions): Promise<boolean>;
  /** One page of keys by an index range (UTF-8 byte order); `truncated` when more follow. */
  list(options: ListRowsOptions): Promise<ListPage>;
  /** The tenant's usage and quota as of the last commit. */
  usage(tenant: string): Promise<TenantUsage>;
  /** Sets a tenant's quota: bytes, null for unlimited, 'default' to follow the server default. */
  setQuota(tenant: string, quotaBytes: number | null | 'default'): Promise<void>;
  /** Whether the tenant's quota is its own (`tenant`) or the server default. */
  quotaSource(tenant: string): Promise<'tenant' | 'default'>;
  /**
   * Removes up to `limit` rows expired at `now`, queueing their blobs; safe with many servers
   * sweeping at once (each row is removed and counted once). Returns how many it removed.
   */
  sweepExpired(options: { now: number; limit: number; collectAfter: number }): Promise<number>;
  /**
   * Claims up to `limit` queued blobs due at `now` for deletion. A claim hides them from other
   * collectors for `leaseMs`; `forgetGarbage` ends them once deleted, so a collector that dies
   * mid-way only delays their deletion.
   */
  takeGarbage(options: { now: number; limit: number; leaseMs: number }): Promise<string[]>;
  forgetGarbage(blobIds: readonly string[]): Promise<void>;
  /** Queues a blob no row holds (e.g. one a failed write left) for deletion. */
  queueGarbage(options: { blobIds: readonly string[]; collectAfter: number }): Promise<void>;
  /** Those of `blobIds` that a row, a queued deletion or an upload session still names (one query per call). */
  knownBlobs(blobIds: readonly string[]): Promise<Set<string>>;

  /** The session an upload URL names, created on first use (the grant's fields are kept). */
  openUpload(grant: UploadGrantInfo): Promise<UploadRecord>;
  findUpload(uploadId: string): Promise<UploadRecord | undefined>;
  /**
   * Claims an open session for a chunk at `offset`; undefined unless the session is open and
   * stands at `offset`. Asks for a fresh part number when `needsPart`.
   */
  claimUpload(options: { uploadId: string; offset: number; needsPart: boolean }): Promise<UploadClaim | undefined>;
  /** Commits a chunk's progress; false when a newer claim took the session meanwhile. */
  advanceUpload(options: AdvanceUploadOptions): Promise<boolean>;
  /** Marks a session cancelled (its row stays until it expires, so its URL never stores again). */
  cancelUpload(uploadId: string): Promise<void>;
  deleteUpload(uploadId: string): Promise<void>;
  /** Up to `limit` sessions whose URL expired at `now`. */
  expiredUploads(options: { now: number; limit: number }): Promise<UploadRecord[]>;
  /**
   * Takes the turn of chore `name` (e.g. the orphan sweep) when it is due at `now`, and makes it
   * due again only after `intervalMs`: of many servers asking, one gets each turn.
   */
  claimChore(options: { name: string; now: number; intervalMs: number }): Promise<boolean>;
  /** Whether the session exists and is neither completed nor cancelled. */
  isUploadOpen(uploadId: string): Promise<boolean>;

  readonly apiKeys: ApiKeyStore;
  /** Resolves when the index answers; rejects (promptly) when it does not. */
  checkReady(): Promise<void>;
  close(): Promise<void>;
}

/** What a row tells of its object without reading it. */
export function infoOf(row: IndexRow): ObjectInfo {
  return {
    size: row.size,
    sha256: row.sha256,
    etag: `"${row.sha256}"`,
    contentType: row.contentType,
    lastModified: row.lastModified,
    expiresAt: row.expiresAt ?? undefined,
  };
}
