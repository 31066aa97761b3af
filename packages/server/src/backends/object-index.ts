import type { ApiKeyStore } from '../auth/api-keys.js';
import type { ListPage, ObjectAttributes, ObjectInfo, ObjectRef, TenantUsage, UploadGrantInfo, WriteCondition } from './backend.js';
import type { BucketSettingsStore } from './bucket-settings.js';
import type { BucketStore } from './buckets.js';
import type { ManifestPart } from './composite.js';
import type { KeptNewer } from './kept-newer.js';

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
  /** Metadata, Cache-Control, Content-Disposition; null when the object has none. */
  readonly attributes: ObjectAttributes | null;
  /**
   * The row's version id, given by the index when it becomes current; 'null' for rows written
   * before rows had one (as S3 names them). Absent in rows the engine is about to write.
   */
  readonly versionId?: string | undefined;
  /** When the row became current (ms); a row written before rows had it: its Last-Modified. */
  readonly currentSince?: number | undefined;
}

/**
 * One version of a key: its current row or a noncurrent one (an overwritten, deleted or moved
 * value kept for the retention window), or a delete marker. Newest first within a key.
 */
export interface VersionRow {
  readonly key: string;
  readonly versionId: string;
  /** The row as it was stored (no inline bytes); a delete marker's is empty. */
  readonly row: IndexRow;
  readonly current: boolean;
  readonly deleteMarker: boolean;
  /** When it became current (a delete marker: when the key was deleted). */
  readonly since: number;
  /** When it stopped being current; undefined for the current row. */
  readonly stoppedAt: number | undefined;
  /** When the sweeper removes it; undefined for the current row. */
  readonly purgeAfter: number | undefined;
  /** Position in the key's history (larger: newer); the cursor of a listing. */
  readonly seq: number;
}

/** One round of the sweeper's purge of versions (ObjectIndex.purgeVersions). */
export interface PurgeVersionsOptions {
  readonly now: number;
  readonly limit: number;
  readonly collectAfter: number;
  readonly keptNewer?: KeptNewer | undefined;
}

/** Up to `limit` versions of a range, by key and newest first, after a cursor. */
export type ListVersionsOptions = KeyRange & {
  readonly after: { readonly key: Buffer; readonly seq: number } | undefined;
  readonly limit: number;
  readonly now: number;
};

/** Makes a noncurrent version (or the current row again, when already it) current at `ref`, in one transaction. */
export interface RestoreVersionOptions {
  readonly ref: ObjectRef;
  readonly versionId: string;
  readonly now: number;
  /** The current row, if any, becomes a version kept until this instant. */
  readonly purgeAfter: number;
  readonly collectAfter: number;
  /**
   * What must be current for the restore to go ahead (PreconditionFailed otherwise): that version
   * id, or (null) no visible row; undefined: whatever is.
   */
  readonly ifCurrent?: string | null | undefined;
}

/** Largest seq: the current row of a key comes after every version of it. */
export const CURRENT_SEQ = Number.MAX_SAFE_INTEGER;

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
/** Rows a commit's `releases` removes per statement. */
export const RELEASE_BATCH_ROWS = 1000;

export interface PutRowOptions {
  readonly ref: ObjectRef;
  readonly row: IndexRow;
  /** Checked against the current row, visible at `now`; 412 PreconditionFailed when not met. */
  readonly condition: WriteCondition | undefined;
  readonly now: number;
  /** Ends this upload session in the same commit; fails if it already ended or was cancelled. */
  readonly completesUpload?: string | undefined;
  /**
   * Rows of this range (expired ones too) are removed in the same commit, before the quota is
   * checked, and their blobs queued: what the new row replaces besides its key (the parts of a
   * multipart upload it completes). If the commit fails they stay.
   */
  readonly releases?: KeyRange | undefined;
  /** The replaced blob is queued for deletion no earlier than this instant (ms). */
  readonly collectAfter: number;
  /** Retention: the replaced visible row becomes a noncurrent version kept until this instant (ms). */
  readonly purgeAfter?: number | undefined;
  /**
   * The row is a composite value (composite.ts; its `blobId` a new manifest id): these parts,
   * read from their rows in the commit, become the manifest's parts in this order. A part whose
   * row is gone or holds other bytes than the caller checked fails the put (PartChangedError).
   */
  readonly composes?: readonly ComposedPart[] | undefined;
}

/** A part of a composite value: the row that holds it, and the bytes (sha256, size) the caller checked it holds. */
export interface ComposedPart {
  readonly ref: ObjectRef;
  readonly sha256: string;
  readonly size: number;
}

export interface RemoveRowOptions {
  readonly ref: ObjectRef;
  readonly now: number;
  readonly condition: WriteCondition | undefined;
  /** The removed blob is queued for deletion no earlier than this instant (ms). */
  readonly collectAfter: number;
  /** Retention: the removed row becomes a version, and a delete marker is added, kept until this instant. */
  readonly purgeAfter?: number | undefined;
  /** The delete marker's version id (one is made when absent). */
  readonly markerVersionId?: string | undefined;
}

export interface ListRowsOptions {
  readonly tenant: string;
  readonly type: string;
  readonly prefix: string;
  /** Only keys after this one (exclusive), in UTF-8 byte order. */
  readonly after: string | undefined;
  readonly limit: number;
  /** Rows expired at or before this instant are not listed. */
  readonly now: number;
}

/**
 * A key range of one tenant and type (a storage type or a bucket name): `start` (inclusive) up to
 * `end` (exclusive; none: to the end).
 */
export interface KeyRange {
  readonly tenant: string;
  readonly type: string;
  readonly start: Buffer;
  readonly end: Buffer | undefined;
}

/** Up to `limit` visible keys of a range, with their rows when `details`. */
export type ScanOptions = KeyRange & { readonly limit: number; readonly now: number; readonly details: boolean };
/** The first `limit` rows of a range to remove in one transaction. */
export type RemoveRangeOptions = KeyRange & {
  readonly limit: number;
  readonly now: number;
  readonly collectAfter: number;
  /** Retention: each removed visible row becomes a version with a delete marker, kept until this instant. */
  readonly purgeAfter?: number | undefined;
};
/** Keys of one tenant and type to remove in one transaction. */
export interface RemoveManyOptions {
  readonly tenant: string;
  readonly type: string;
  readonly keys: readonly string[];
  readonly now: number;
  readonly collectAfter: number;
  /** Retention: each removed row becomes a version with a delete marker, kept until its key's instant (undefined: not kept). */
  readonly purgeAfter?: ((key: string) => number | undefined) | undefined;
}

/** One key of a scan, with its row (without inline bytes) when details were asked for. */
export interface ScannedKey {
  readonly key: string;
  readonly row: IndexRow | undefined;
}

/** What one batch of a range operation did, and where the next batch starts (none: finished). */
export interface RangeStep {
  /** Visible objects removed, copied or moved, and their bytes. */
  readonly objects: number;
  readonly bytes: number;
  /** Source keys left alone: the destination existed (and no overwrite), or would be too long. */
  readonly skipped: string[];
  readonly next: Buffer | undefined;
}

/** A copy or move of one key: one transaction, no bytes. */
export interface TransferOptions {
  readonly from: ObjectRef;
  /**
   * Copy this version of `from` (the current row when it is that version, or a noncurrent one kept
   * by retention), read in the copy's transaction; NoSuchVersion when there is none (or it is a
   * delete marker). Not with `move`.
   */
  readonly fromVersionId?: string | undefined;
  readonly to: ObjectRef;
  /** Removes the source row in the same transaction. */
  readonly move: boolean;
  /** Replace an existing destination; otherwise DestinationExists (409). */
  readonly overwrite: boolean;
  /** Checked against the source. */
  readonly condition: WriteCondition | undefined;
  /**
   * Called with the source as the transaction reads it, before anything is written; throws to
   * refuse the copy. So a check of the source (S3's x-amz-copy-source-if-* conditions) judges the
   * very version that is copied. Must not wait: it runs inside the transaction.
   */
  readonly checkSource?: ((source: ObjectInfo) => void) | undefined;
  readonly now: number;
  /** The destination's Last-Modified; undefined keeps the source's. */
  readonly lastModified: number | undefined;
  /** The destination's expiry when the source has none (a copy into `tmp`). */
  readonly expiresAtIfNone: number | null;
  /** The destination's expiry whatever the source's (a part copied into a multipart upload expires with the upload). */
  readonly expiresAt?: number | undefined;
  /** A replaced destination's blob is queued for deletion no earlier than this instant (ms). */
  readonly collectAfter: number;
  /** Retention of the destination: a replaced visible row becomes a version kept until this instant. */
  readonly purgeAfter?: number | undefined;
  /** Retention of a move's source: it becomes a version with a delete marker, kept until this instant. */
  readonly sourcePurgeAfter?: number | undefined;
  /** The destination's content type and attributes instead of the source's (S3's metadata REPLACE). */
  readonly replace?: { readonly contentType: string; readonly attributes: ObjectAttributes | null } | undefined;
}

/** One batch of a prefix copy or move: the first `limit` source rows of `range`. */
export interface TransferRangeOptions
  extends Omit<TransferOptions, 'from' | 'fromVersionId' | 'to' | 'condition' | 'checkSource' | 'replace' | 'expiresAtIfNone'> {
  /** Each destination's expiry when its source has none, by its key (a bucket's lifecycle rules go by prefix). */
  readonly expiresAtIfNone: (destinationKey: string) => number | null;
  readonly range: KeyRange;
  /** The source prefix each key loses and the destination prefix it gains. */
  readonly fromPrefix: string;
  readonly toType: string;
  readonly toPrefix: string;
  readonly limit: number;
}

/** A chunk's claim of an upload session (ObjectIndex.claimUpload). */
export interface ClaimUploadOptions {
  readonly uploadId: string;
  readonly offset: number;
  readonly needsPart: boolean;
  /** The attempt of this request's previous claim: only if no other request claimed since. */
  readonly continues?: number | undefined;
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
 * quotas, upload sessions, API keys, named buckets, bucket settings and the queue of blobs to
 * delete. Every write is one transaction, linearizable per key across every server that shares
 * the index. Implementations: SQLite (embedded) and PostgreSQL (scale-out); one contract suite runs over both.
 */
export interface ObjectIndex {
  /** The row of `ref` visible at `now` (not expired). */
  find(options: { ref: ObjectRef; now: number }): Promise<IndexRow | undefined>;
  /**
   * Stores `row` under `ref` in one transaction that checks the condition and the tenant's quota
   * (QuotaExceeded), charges the usage, optionally ends an upload session or removes the rows it
   * releases, and queues the replaced blob for deletion. Into a named bucket (`ref.type`) it also
   * needs the bucket, owned by `ref.tenant` (NoSuchBucket), and holds the bucket's quota.
   */
  put(options: PutRowOptions): Promise<void>;
  /** Removes the row; false when none was visible. Its blob is queued for deletion. */
  remove(options: RemoveRowOptions): Promise<boolean>;
  /** One page of keys by an index range (UTF-8 byte order); `truncated` when more follow. */
  list(options: ListRowsOptions): Promise<ListPage>;
  /** Up to `limit` visible keys of `range` in byte order, with their rows (no inline bytes) when `details`. */
  scan(options: ScanOptions): Promise<ScannedKey[]>;
  /** Visible objects of `range` and their bytes, counted now (not from the ledger). */
  countRange(options: KeyRange & { now: number }): Promise<{ objects: number; bytes: number }>;
  /**
   * Removes the first `limit` rows of `range` (expired ones too) in one transaction, queueing
   * their blobs; `next` is where the next batch starts.
   */
  removeRange(options: RemoveRangeOptions): Promise<RangeStep>;
  /** Removes each key visible at `now` in one transaction; the removed size per key, undefined where none was. */
  removeMany(options: RemoveManyOptions): Promise<Array<number | undefined>>;
  /**
   * Copies (or moves) a row to another key in one transaction that checks the condition and the
   * quota: the destination names the same blob (or inline bytes). NoSuchKey, DestinationExists,
   * PreconditionFailed, QuotaExceeded, NoSuchBucket (a destination bucket that does not exist).
   * Returns the destination row.
   */
  transfer(options: TransferOptions): Promise<IndexRow>;
  /** Copies (or moves) the first `limit` rows of a range, each as `transfer` would, in one transaction. */
  transferRange(options: TransferRangeOptions): Promise<RangeStep>;
  /** The tenant's usage and quota as of the last commit. */
  usage(tenant: string): Promise<TenantUsage>;
  /**
   * Removes the noncurrent version `versionId` of `ref` (a value or a delete marker) for good,
   * queueing its blob (collected if nothing else names it); undefined when there is none.
   */
  removeVersion(options: { ref: ObjectRef; versionId: string; collectAfter: number }): Promise<{ deleteMarker: boolean } | undefined>;
  /**
   * When the key's only version is a delete marker (no row in objects, no other version), makes
   * it due at `at` unless it is due sooner (S3's ExpiredObjectDeleteMarker: the sweeper removes it
   * then); whether it did. One transaction: a write to the key meanwhile leaves it as it is.
   */
  expireLoneMarker(options: { ref: ObjectRef; at: number }): Promise<boolean>;
  /**
   * S3's DeleteObject with a version id: removes version `versionId` of `ref` for good, whichever
   * it is. A noncurrent version, or a delete marker that is not the newest of its key, goes as
   * `removeVersion` removes it. The current row (visible at `now`), or the key's newest delete
   * marker when no row is current, goes too, and then the newest version left is the key's state
   * again, in the same transaction: a value becomes the current row with its own version id and
   * since (`promoted`), a delete marker leaves the key deleted. Removed blobs are queued (collected
   * if nothing else names them). Undefined when there is no such version.
   */
  deleteVersion(options: {
    ref: ObjectRef;
    versionId: string;
    now: number;
    collectAfter: number;
  }): Promise<{ deleteMarker: boolean; promoted: string | undefined } | undefined>;
  /** The value of version `versionId` of `ref` (the current row, visible at `now`, or a noncurrent one; not a delete marker). */
  findVersion(options: { ref: ObjectRef; versionId: string; now: number }): Promise<IndexRow | undefined>;
  /** Bytes and count of the noncurrent versions of a tenant's rows (of one type when given), counted now. */
  retained(options: { tenant: string; type?: string | undefined }): Promise<{ bytes: number; versions: number }>;
  /** Versions of a range (current rows visible at `now` and noncurrent ones), by key, newest first. */
  listVersions(options: ListVersionsOptions): Promise<VersionRow[]>;
  /**
   * Puts a noncurrent version's value back as the current row of `ref` (a new version id), in the
   * transaction that reads the version; the current row, if any, becomes a version. Nothing
   * changes when the current row already holds that value. NoSuchVersion when there is no such
   * version (or it is a delete marker); QuotaExceeded as for a write. Returns the current row.
   */
  restoreVersion(options: RestoreVersionOptions): Promise<IndexRow>;
  /**
   * Removes up to `limit` versions whose purge instant passed at `now`, queueing their blobs
   * (collected only if no row or version still names them); safe with many servers at once. With
   * `keptNewer`, holds those its schedules keep by count instead (kept-newer.ts). How many it
   * removed or held.
   */
  purgeVersions(options: PurgeVersionsOptions): Promise<number>;
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
   * mid-way only delays their deletion. Rows are the blobs' references (copies share a blob): a
   * queued blob that a row still names is dropped from the queue, not handed out. That check is
   * final because a reference is only ever made from a row that holds one, in the transaction
   * that reads it: once no row names a blob, none ever will again.
   */
  takeGarbage(options: { now: number; limit: number; leaseMs: number }): Promise<string[]>;
  forgetGarbage(blobIds: readonly string[]): Promise<void>;
  /**
   * Dissolves manifests the collector took (no row names them): their parts' rows go, the
   * blobs they named are queued (due at `collectAfter`), and the manifests leave the queue.
   */
  dissolveManifests(options: { manifestIds: readonly string[]; collectAfter: number }): Promise<void>;
  /** The parts of a manifest, in order (empty when none: it was dissolved). Manifests never change. */
  manifestParts(manifestId: string): Promise<ManifestPart[]>;
  /** Queues a blob no row holds (e.g. one a failed write left) for deletion. */
  queueGarbage(options: { blobIds: readonly string[]; collectAfter: number }): Promise<void>;
  /** Those of `blobIds` that a row, a queued deletion or an upload session still names (one query per call). */
  knownBlobs(blobIds: readonly string[]): Promise<Set<string>>;

  /** The session an upload URL names, created on first use (the grant's fields are kept). */
  openUpload(grant: UploadGrantInfo): Promise<UploadRecord>;
  findUpload(uploadId: string): Promise<UploadRecord | undefined>;
  /**
   * Claims an open session for a chunk at `offset`; undefined unless the session is open and
   * stands at `offset`. Asks for a fresh part number when `needsPart`. With `continues` (the
   * attempt of this request's previous claim), only if no other request claimed it since.
   */
  claimUpload(options: ClaimUploadOptions): Promise<UploadClaim | undefined>;
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
  /** Per-bucket settings (CORS configurations). */
  readonly bucketSettings: BucketSettingsStore;
  /**
   * Named buckets: their records, and their bytes and objects, which every write's transaction
   * keeps with the tenant's usage (a write into a bucket that does not exist is NoSuchBucket).
   */
  readonly buckets: BucketStore;
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
    attributes: row.attributes,
    ...(row.versionId !== undefined ? { versionId: row.versionId } : {}),
  };
}
