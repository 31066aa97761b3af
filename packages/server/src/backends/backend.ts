import type { Readable } from 'node:stream';
import type { BlobLocation, LocateBlobOptions } from './blob-store.js';
import type { FolderListingOptions, FolderPage } from './folder-listing.js';
import type { ComposedPart, ListVersionsOptions, RestoreVersionOptions, VersionRow } from './object-index.js';
import type {
  PrefixTransferResult,
  RestorePrefixOptions,
  RestorePrefixResult,
  TransferKeyOptions,
  TransferPrefixOptions,
} from './prefix-operations.js';
import type { PurgeSchedule, PurgeScheduleSource } from './purge-schedule.js';

/** Names one object: whose it is, its namespace, and its key. */
export interface ObjectRef {
  readonly tenant: string;
  /**
   * A storage type ('data', 'tmp', 'result'), a named bucket's name (its objects are the owner's
   * rows under the name), or an internal type starting with '.' (e.g. '.multipart').
   */
  readonly type: string;
  readonly key: string;
}

/**
 * What an object carries besides its bytes and content type, stored with it and returned on GET
 * and HEAD. Part of the value: every write replaces it (none sent, none kept).
 *
 * The engine knows the fields every front has (metadata, Cache-Control, Content-Disposition). The
 * domain's own fields come in two groups the engine knows only by their role: `content`, what
 * describes the bytes, which every copy keeps since it names the same bytes; and `chosen`, the
 * rest of what the writer chose, which a copy that replaces the attributes replaces. The index
 * stores all of them flat in one JSON object and, reading it, puts each field the domain named as
 * content (`AttributeLayout`) into `content` and every other one into `chosen`.
 */
export interface ObjectAttributes {
  /** User metadata (`x-stowage-meta-NAME`), names lower-case, values decoded text. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly cacheControl: string | null;
  readonly contentDisposition: string | null;
  /** The rest of what the writer chose, in the domain's fields: replaced with the metadata by a copy that replaces it. */
  readonly chosen?: Readonly<Record<string, unknown>> | undefined;
  /** What describes the bytes, in the domain's fields: kept by every copy, even one that replaces the metadata. */
  readonly content?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Which of the domain's stored attribute fields describe the bytes (`ObjectAttributes.content`),
 * given by the domain when the index is opened. The names are the stored ones: servers of two
 * versions may share one index, so a field keeps its name for good.
 */
export interface AttributeLayout {
  readonly contentFields: readonly string[];
}

/**
 * A write's attributes, or a function that gives them once the whole body has been read and
 * before the commit: for attributes computed from the bytes (the MD5 of S3's ETag).
 */
export type WriteAttributes = ObjectAttributes | null | (() => ObjectAttributes | null);

/** What is known about a stored object without reading it. */
export interface ObjectInfo {
  readonly size: number;
  /** Strong ETag, quoted, derived from the content's sha256. */
  readonly etag: string;
  /** Hex sha256 of the content. */
  readonly sha256: string;
  readonly contentType: string;
  /** Milliseconds since the epoch. */
  readonly lastModified: number;
  /** Milliseconds since the epoch; undefined when the object never expires. */
  readonly expiresAt: number | undefined;
  /** Null (or absent, in records made before objects had attributes) when it has none. */
  readonly attributes?: ObjectAttributes | null | undefined;
  /**
   * The value's version id (S3's x-amz-version-id): of the row a read found, a write or copy made
   * ('null' for rows written before rows had one); absent in records made before rows had one.
   */
  readonly versionId?: string | undefined;
}

/** A chunk to append to an upload session. */
export interface AppendOptions {
  readonly length: number;
  readonly total: number | undefined;
  readonly maxBytes: number;
  readonly signal: AbortSignal | undefined;
  /** Before each piece of a long chunk after the first: throws to refuse it (the quota). */
  readonly admitPiece?: ((start: number, end: number) => Promise<void>) | undefined;
}

/** The bytes of an object: small ones may come as a buffer, the rest as a stream. */
export type ObjectBody = Buffer | Readable;

/**
 * What a read found: the info, and the body unless the plan was `none`, or instead of the body
 * where its blob can be read from when the plan asked for that (`handoff`) and the store can say.
 */
export interface ReadResult {
  readonly info: ObjectInfo;
  readonly body: ObjectBody | undefined;
  readonly plan: ReadPlan;
  readonly location?: BlobLocation | undefined;
}

/** Asks for the blob's location rather than its bytes, when the store can give one. */
export type Handoff = Omit<LocateBlobOptions, 'blobId' | 'size'>;

/** What to read once the object's info is known: nothing (e.g. 304), a byte range, or everything. */
export type ReadPlan =
  | { kind: 'none' }
  | { kind: 'all'; handoff?: Handoff | undefined }
  | { kind: 'range'; start: number; end: number; handoff?: Handoff | undefined };

/** Preconditions checked atomically with the commit. */
export interface WriteCondition {
  /** The current ETag must be one of these (`*`: any existing object). */
  readonly ifMatch?: readonly string[] | undefined;
  /** `true`: there must be no current object (`If-None-Match: *`). */
  readonly ifNoneMatch?: boolean | undefined;
}

export interface WriteOptions {
  readonly contentType: string;
  readonly expiresAt: number | undefined;
  /** Largest accepted body; exceeding it fails with EntityTooLarge as soon as the byte arrives. */
  readonly maxBytes: number;
  /** Declared length: a body that ends before it fails with IncompleteBody. */
  readonly expectedBytes: number | undefined;
  /** Aborts the write and removes whatever it had written. */
  readonly signal: AbortSignal | undefined;
  /** Checked when the body is complete, atomically with the commit; 412 when not met. */
  readonly condition?: WriteCondition | undefined;
  /** Hex sha256 the client says the body has; a mismatch stores nothing (400). */
  readonly expectedSha256?: string | undefined;
  /** Visibility instant for preconditions (expired objects do not exist). */
  readonly now: number;
  /** The upload session this write completes, in the same commit; refused if it already did. */
  readonly completesUpload?: string | undefined;
  /**
   * The writer's own keys of this type under this prefix go in the same commit, before the quota
   * is checked (the parts of the multipart upload the write completes).
   */
  readonly releases?: { readonly type: string; readonly prefix: string } | undefined;
  readonly attributes?: WriteAttributes | undefined;
  /** Retention: the value this write replaces is kept as a noncurrent version until this instant (ms). */
  readonly purgeAfter?: number | undefined;
}

/** What a composite write takes of WriteOptions: no body, so no declared length, checksum or signal. */
export type ComposeOptions = Omit<WriteOptions, 'expectedBytes' | 'signal' | 'expectedSha256' | 'completesUpload'>;

/** A resumable upload session: bytes 0..received-1 are durable in its part file. */
export interface UploadSession {
  readonly uploadId: string;
  readonly ref: ObjectRef;
  readonly received: number;
  /** Total size once a chunk declared it. */
  readonly total: number | undefined;
  /** Set once the upload completed: the stored object. */
  readonly completed: ObjectInfo | undefined;
}

/** How a resumable upload becomes its object. */
export interface CompleteUploadOptions {
  /** Checked atomically with the commit; 412 when not met (the session stays resumable). */
  readonly condition: WriteCondition | undefined;
  /** Hex sha256 the client says the whole upload has; a mismatch stores nothing. */
  readonly expectedSha256: string | undefined;
  /** Visibility instant for preconditions. */
  readonly now: number;
  /** When the stored object expires (null: never), fixed at completion. */
  readonly objectExpiresAt: number | null;
  /** Sent with the request that completes the upload. */
  readonly attributes?: ObjectAttributes | null | undefined;
  /** Retention: the value the upload replaces is kept as a noncurrent version until this instant (ms). */
  readonly purgeAfter?: number | undefined;
}

export interface UploadGrantInfo {
  readonly uploadId: string;
  readonly ref: ObjectRef;
  readonly contentType: string;
  /** When the upload URL, and so the session, expires (ms). */
  readonly sessionExpiresAt: number;
  /** Expiry of the object once stored (ms), if any. */
  readonly objectExpiresAt: number | undefined;
}

export interface ListOptions {
  readonly prefix: string;
  /** Return only keys after this one (exclusive). */
  readonly after: string | undefined;
  readonly limit: number;
  /** Objects that expired at or before this instant are not listed. */
  readonly now: number;
}

export interface ListPage {
  readonly keys: string[];
  /** True when keys after the last one returned remain. */
  readonly truncated: boolean;
}

/** A tenant's stored bytes and objects (expired ones count until swept), and its quota. */
export interface TenantUsage {
  readonly tenant: string;
  readonly bytes: number;
  readonly objects: number;
  /** Bytes held by the tenant's open resumable uploads (not yet objects). */
  readonly pendingUploadBytes: number;
  /** Most bytes the tenant may store; null for unlimited. */
  readonly quotaBytes: number | null;
}

/**
 * Where objects live. Implementations: the fs backend (files + SQLite). Every method honours
 * visibility at `now`: an expired object does not exist for reads, lists and deletes.
 */
export interface Backend {
  head(ref: ObjectRef, now: number): Promise<ObjectInfo | undefined>;
  /** Looks the object up and reads what `plan` asks for, from the same version. */
  read(ref: ObjectRef, now: number, plan?: (info: ObjectInfo) => ReadPlan): Promise<ReadResult | undefined>;
  /** Stores `body` under `ref`, replacing any previous value atomically once complete. */
  write(ref: ObjectRef, body: Readable, options: WriteOptions): Promise<ObjectInfo>;
  /**
   * Stores under `ref` the values of `parts` one after the other, without copying a byte: the
   * object names their blobs (a composite value; its sha256 is `compositeSha256` of theirs). Each
   * part is read from its row in the commit and must still hold the bytes given, or nothing is
   * stored (PartChangedError). The parts' own rows usually go in the same commit (`releases`).
   */
  compose(ref: ObjectRef, parts: readonly ComposedPart[], options: ComposeOptions): Promise<ObjectInfo>;
  /**
   * Removes the object; false when there was none visible. With `purgeAfter` it is kept as a
   * version, and a delete marker (of version id `markerVersionId`, or a new one) records the delete.
   */
  delete(ref: ObjectRef, now: number, condition?: WriteCondition, purgeAfter?: number, markerVersionId?: string): Promise<boolean>;
  /** The session, created empty on first use; refused when it belongs to another URL. */
  openUpload(grant: UploadGrantInfo): Promise<UploadSession>;
  /** The session as it stands, its offset checked against the bytes actually held. */
  uploadStatus(uploadId: string): Promise<UploadSession>;
  /** Appends a chunk at `offset` (must equal `received`), durably. */
  appendUpload(uploadId: string, offset: number, body: Readable, options: AppendOptions): Promise<UploadSession>;
  /** Turns the complete upload into the object, atomically; idempotent once complete. */
  completeUpload(uploadId: string, options: CompleteUploadOptions): Promise<ObjectInfo>;
  /** Stores a whole body through the session (once); after completion, the stored object's info. */
  putUpload(uploadId: string, ref: ObjectRef, body: Readable, options: WriteOptions): Promise<ObjectInfo>;
  /** Cancels the session of `ref` and removes its bytes; false if there was none. */
  abortUpload(uploadId: string, ref: ObjectRef): Promise<boolean>;
  list(tenant: string, type: string, options: ListOptions): Promise<ListPage>;
  /** A page of keys one level down (and sub-prefixes), or of keys with their details. */
  listFolder(options: FolderListingOptions): Promise<FolderPage>;
  /**
   * Removes every key under `prefix`, a batch per transaction; what was visible of them. With
   * `purge`, each removed visible value is kept as a version until its key's instant.
   */
  deletePrefix(
    tenant: string,
    type: string,
    prefix: string,
    now: number,
    purge?: PurgeSchedule,
  ): Promise<{ objects: number; bytes: number }>;
  /** Removes each key in one transaction; the size removed per key, undefined where there was none. */
  deleteMany(tenant: string, type: string, keys: readonly string[], now: number, purge?: PurgeSchedule): Promise<Array<number | undefined>>;
  /** Visible objects under `prefix` and their bytes. */
  countPrefix(tenant: string, type: string, prefix: string, now: number): Promise<{ objects: number; bytes: number }>;
  /** Copies or moves one key without its bytes (the destination names the same blob). */
  transferKey(options: TransferKeyOptions): Promise<ObjectInfo>;
  /** Copies or moves every key under a prefix, each atomically. */
  transferPrefix(options: TransferPrefixOptions): Promise<PrefixTransferResult>;
  /** The tenant's usage and quota, as of the last commit. */
  usage(tenant: string): Promise<TenantUsage>;
  /**
   * Physically removes objects that expired at or before `now`, and versions past their window
   * but those their type's schedule (`scheduleFor`) keeps by count; returns how many objects.
   */
  sweepExpired(now: number, scheduleFor?: PurgeScheduleSource): Promise<number>;
  /** Removes a noncurrent version for good (its blob collected when nothing else names it); undefined when none. */
  removeVersion(ref: ObjectRef, versionId: string): Promise<{ deleteMarker: boolean } | undefined>;
  /**
   * Removes version `versionId` for good, whichever it is (S3's DeleteObject with a version id):
   * when it was the key's current value or newest delete marker, the newest version left becomes
   * the key's state again (`promoted`: the value made current). Undefined when there is none.
   */
  deleteVersion(ref: ObjectRef, versionId: string): Promise<{ deleteMarker: boolean; promoted: string | undefined } | undefined>;
  /** A delete marker left as its key's only version goes at `at` (ObjectIndex.expireLoneMarker); whether one was. */
  expireLoneMarker(ref: ObjectRef, at: number): Promise<boolean>;
  /** Looks version `versionId` of the object up (current or noncurrent) and reads what `plan` asks for. */
  readVersion(ref: ObjectRef, versionId: string, now: number, plan?: (info: ObjectInfo) => ReadPlan): Promise<ReadResult | undefined>;
  /** Versions (current and noncurrent) under a prefix, by key and newest first, after a cursor. */
  listVersions(options: ListVersionsOptions): Promise<VersionRow[]>;
  /** Bytes and count of a tenant's noncurrent versions (of one type when given). */
  retained(tenant: string, type?: string): Promise<{ bytes: number; versions: number }>;
  /** Makes a version of `ref` current again (its value, a new version id); the current row becomes a version. */
  restoreVersion(options: RestoreVersionOptions): Promise<ObjectInfo>;
  /** Puts every key under a prefix back as it was at `at`, a batch at a time (running it again converges). */
  restorePrefix(options: RestorePrefixOptions): Promise<RestorePrefixResult>;
  /** Resolves when the backend can serve (e.g. its database answers). */
  checkReady(): Promise<void>;
  /**
   * The origin of the URLs a read handed off to the store names (a presigned URL's scheme, host
   * and port), for pages that must be let to fetch from it; undefined when reads are not handed
   * off by URL.
   */
  handoffOrigin(): Promise<string | undefined>;
  close(): Promise<void>;
}
