import { Readable } from 'node:stream';
import { MAX_LIST_LIMIT } from 'stowage-client/protocol';
import type {
  Backend,
  ObjectAttributes,
  ObjectInfo,
  ReadPlan,
  ReadResult,
  TenantUsage,
  UploadSession,
  WriteAttributes,
  WriteCondition,
  WriteOptions,
} from '../backends/backend.js';
import { quotaExceeded } from '../backends/conditions.js';
import type { FolderPage } from '../backends/folder-listing.js';
import { newVersionId } from '../backends/object-columns.js';
import { PurgeSchedule } from '../backends/purge-schedule.js';
import { fail } from '../errors.js';
import { incompleteUploadExpiry, lifecycleExpiry, type UploadExpiry } from './bucket-expiry.js';
import type { LifecycleRule } from './bucket-model.js';
import type { ObjectRef } from './object-ref.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import type { Retention } from './retention.js';

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

export interface ObjectServiceOptions {
  readonly tmpTtlMs: number;
  readonly maxObjectBytes: number;
  readonly clock: () => number;
  /** The lifecycle rules of a named bucket (tenant: its owner), as the index holds them now; none for other types. */
  readonly lifecycleRules?: ((tenant: string, type: string) => Promise<readonly LifecycleRule[]>) | undefined;
  /** How long replaced values of a tenant's rows of a type are kept: retentionOf. */
  readonly retention?: ((tenant: string, type: string) => Promise<Retention>) | undefined;
}

export interface PutOptions {
  readonly contentType: string | undefined;
  readonly contentLength: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly condition?: WriteCondition | undefined;
  /** Hex sha256 the client computed; a mismatch stores nothing. */
  readonly expectedSha256?: string | undefined;
  /** Per-object lifetime (any storage type), in ms. */
  readonly expiresInMs?: number | undefined;
  /** Metadata, Cache-Control, Content-Disposition to store with the value. */
  readonly attributes?: WriteAttributes | undefined;
}

/** What one request to an upload URL achieved. */
export type UploadStep = { done: false; session: UploadSession } | { done: true; info: ObjectInfo };

/** How an upload ends: its condition and checksum. */
export interface FinishOptions {
  readonly condition: WriteCondition | undefined;
  readonly expectedSha256: string | undefined;
  /** The lifetime the upload URL gives the object (ms); it starts when the upload completes. */
  readonly objectTtlMs: number | undefined;
  /** Sent with the request that completes the upload. */
  readonly attributes?: ObjectAttributes | null | undefined;
}

export interface ListResult {
  readonly keys: string[];
  /** Token for the next page; undefined on the last page. */
  readonly next: string | undefined;
}

/** Declared bodies up to this size are checked against the quota at commit only. */
const EARLY_QUOTA_CHECK_MIN_BYTES = 64 * 1024;

/**
 * The storage domain: storage-type rules (tmp expiry), limits, paging. Talks only to the
 * Backend, so every backend gets the same semantics.
 */
export class ObjectService {
  constructor(
    private readonly backend: Backend,
    private readonly options: ObjectServiceOptions,
  ) {}

  async head(ref: ObjectRef): Promise<ObjectInfo> {
    const info = await this.backend.head(ref, this.options.clock());
    if (!info) throw fail('NoSuchKey', `No object at ${ref.type}/${ref.key}`);
    return info;
  }

  /** The object's info, or undefined when there is none. */
  find(ref: ObjectRef): Promise<ObjectInfo | undefined> {
    return this.backend.head(ref, this.options.clock());
  }

  /** Reads what `plan` picks once the object's info is known (a range, nothing for a 304, or all). */
  async read(ref: ObjectRef, plan?: (info: ObjectInfo) => ReadPlan): Promise<ReadResult> {
    const found = await this.backend.read(ref, this.options.clock(), plan);
    if (!found) throw fail('NoSuchKey', `No object at ${ref.type}/${ref.key}`);
    return found;
  }

  /** Reads version `versionId` of the object (current or kept by retention); NoSuchVersion when there is none. */
  async readVersion(ref: ObjectRef, versionId: string, plan?: (info: ObjectInfo) => ReadPlan): Promise<ReadResult> {
    const found = await this.backend.readVersion(ref, versionId, this.options.clock(), plan);
    if (!found) throw fail('NoSuchVersion', `No version ${versionId} of ${ref.type}/${ref.key}`);
    return found;
  }

  async put(ref: ObjectRef, body: Readable, options: PutOptions): Promise<ObjectInfo> {
    this.assertDeclaredSize(options.contentLength);
    await this.assertQuotaRoom(ref, options.contentLength);
    return this.backend.write(ref, body, await this.writeOptions(ref, options));
  }

  /**
   * Copies `source` onto `target` without its bytes (the destination names the same blob).
   * `checkSource` judges the very version copied (the row the copy's transaction reads);
   * `replace` gives the copy another content type and attributes (those that describe the bytes
   * stay). The copy expires as its source does, or as its type's objects do when the source never
   * expires; with `inPlace` (the object itself with its attributes changed, as PutObjectAcl does
   * it), exactly as its source does.
   */
  async copy(
    source: ObjectRef,
    target: ObjectRef,
    options: {
      checkSource?: ((source: ObjectInfo) => void) | undefined;
      replace?: { contentType: string; attributes: ObjectAttributes | null } | undefined;
      inPlace?: boolean | undefined;
      /** Copy this version of the source (current or kept by retention); NoSuchVersion when none. */
      sourceVersionId?: string | undefined;
    } = {},
  ): Promise<ObjectInfo> {
    return this.backend.transferKey({
      from: source,
      fromVersionId: options.sourceVersionId,
      to: target,
      move: false,
      overwrite: true,
      condition: undefined,
      checkSource: options.checkSource,
      now: this.options.clock(),
      // An in-place copy changes attributes (an ACL), not the value: it keeps no version.
      purgeAfter: options.inPlace ? undefined : await this.purgeAfterFor(target),
      expiresAtIfNone: options.inPlace ? null : ((await this.expiresAtFor(target)) ?? null),
      replace: options.replace,
    });
  }

  /**
   * One page of a listing with each object's row: keys one level down and their folders when a
   * delimiter is given, every key under the prefix otherwise, from `start` (the prefix, or a
   * front's resume point) on.
   */
  listFolderPage(
    tenant: string,
    type: string,
    page: { prefix: string; delimiter: string | undefined; start: Buffer; limit: number },
  ): Promise<FolderPage> {
    return this.backend.listFolder({ tenant, type, ...page, details: true, now: this.options.clock() });
  }

  /** Resolves when the storage can serve (its index and blob store answer). */
  checkReady(): Promise<void> {
    return this.backend.checkReady();
  }

  /** The tenant's stored bytes and objects, and its quota. */
  usage(tenant: string): Promise<TenantUsage> {
    return this.backend.usage(tenant);
  }

  /**
   * Refuses a write whose declared size cannot fit the tenant's quota before any of its body is
   * read. The backend checks again when it commits: this one only spares sending the bytes, so
   * a small body skips it (the lookups cost more than reading it: about a tenth of the server's
   * work on a 1 KiB PUT) and gets the same QuotaExceeded from the commit.
   */
  private async assertQuotaRoom(ref: ObjectRef, incomingBytes: number | undefined): Promise<void> {
    if (incomingBytes === undefined || incomingBytes <= EARLY_QUOTA_CHECK_MIN_BYTES) return;
    const usage = await this.backend.usage(ref.tenant);
    if (usage.quotaBytes === null) return;
    const replaced = (await this.backend.head(ref, this.options.clock()))?.size ?? 0;
    const growth = incomingBytes - replaced;
    if (growth > 0 && usage.bytes + growth > usage.quotaBytes) throw quotaExceeded(usage, growth);
  }

  /**
   * Bytes held by open resumable uploads count against the quota as their chunks arrive, so
   * uploads left incomplete (a total of `*`, or never finished) cannot store past it.
   */
  private async assertUploadRoom(session: UploadSession, holdsAfter: number): Promise<void> {
    const usage = await this.backend.usage(session.ref.tenant);
    const growth = holdsAfter - session.received;
    if (usage.quotaBytes === null || growth <= 0) return;
    if (usage.bytes + usage.pendingUploadBytes + growth > usage.quotaBytes) throw quotaExceeded(usage, usage.pendingUploadBytes + growth);
  }

  private assertDeclaredSize(contentLength: number | undefined): void {
    const { maxObjectBytes } = this.options;
    if (contentLength !== undefined && contentLength > maxObjectBytes) {
      throw fail('EntityTooLarge', `Content-Length ${contentLength} exceeds the limit of ${maxObjectBytes} bytes`);
    }
  }

  private async writeOptions(ref: ObjectRef, options: PutOptions): Promise<WriteOptions> {
    // Both read the bucket's settings: at once, not one after the other.
    const [expiresAt, purgeAfter] = await Promise.all([this.expiryFor(ref, options.expiresInMs), this.purgeAfterFor(ref)]);
    return {
      contentType: options.contentType || DEFAULT_CONTENT_TYPE,
      expiresAt,
      maxBytes: this.options.maxObjectBytes,
      expectedBytes: options.contentLength,
      signal: options.signal,
      condition: options.condition,
      expectedSha256: options.expectedSha256,
      now: this.options.clock(),
      attributes: options.attributes,
      purgeAfter,
    };
  }

  /** Starts (or finds) the resumable session an upload URL names. */
  async openUpload(grant: {
    uploadId: string;
    ref: ObjectRef;
    contentType: string | undefined;
    urlExpiresAt: number;
    objectTtlMs: number | undefined;
  }) {
    return this.backend.openUpload({
      uploadId: grant.uploadId,
      ref: grant.ref,
      contentType: grant.contentType || DEFAULT_CONTENT_TYPE,
      sessionExpiresAt: grant.urlExpiresAt,
      objectExpiresAt: await this.expiryFor(grant.ref, grant.objectTtlMs),
    });
  }

  /** Appends one chunk; completes the upload when it holds the last byte. */
  async appendChunk(
    session: UploadSession,
    chunk: { start: number; end: number; total: number | undefined; body: Readable; signal: AbortSignal | undefined },
    finish: FinishOptions,
  ): Promise<UploadStep> {
    // Every byte is already held (a crash or a lost response came between the last chunk and
    // completion): a resent chunk finishes the upload instead of being refused as an overlap.
    if (session.total !== undefined && session.received === session.total && chunk.end < session.total) {
      return { done: true, info: await this.completeUpload(session, finish) };
    }
    if (chunk.total !== undefined) await this.assertQuotaRoom(session.ref, chunk.total);
    await this.assertUploadRoom(session, chunk.end + 1);
    const updated = await this.backend.appendUpload(session.uploadId, chunk.start, chunk.body, {
      length: chunk.end - chunk.start + 1,
      total: chunk.total,
      maxBytes: this.options.maxObjectBytes,
      signal: chunk.signal,
      // Each piece of a long chunk is held against the quota again as it comes: concurrent
      // uploads that each fitted when they began cannot together go far past it.
      admitPiece: (start, end) => this.assertUploadRoom({ ...session, received: start }, end),
    });
    if (updated.total === undefined || updated.received < updated.total) return { done: false, session: updated };
    return { done: true, info: await this.completeUpload(updated, finish) };
  }

  /**
   * Answers a status query. An upload whose bytes all arrived is completed here: this is how a
   * client finishes one whose last response it lost, or that a crash interrupted.
   */
  async uploadStatus(uploadId: string, total: number | undefined, finish: FinishOptions): Promise<UploadStep> {
    let current = await this.backend.uploadStatus(uploadId);
    if (current.completed) return { done: true, info: current.completed };
    // A query that declares the total the upload already holds completes it: `bytes */0` for an
    // empty upload, and `bytes */N` after the rest of a file went up as `bytes A-B/*` (a client
    // that sends the digest, known only once every byte went out, with this last request).
    if (current.total === undefined && total !== undefined && current.received === total) {
      current = await this.backend.appendUpload(current.uploadId, total, Readable.from([]), {
        length: 0,
        total,
        maxBytes: this.options.maxObjectBytes,
        signal: undefined,
      });
    }
    if (current.total !== undefined && current.received === current.total)
      return { done: true, info: await this.completeUpload(current, finish) };
    return { done: false, session: current };
  }

  /**
   * A whole-body PUT on an upload URL. An upload URL stores once: after its upload completed,
   * a PUT answers the stored object's info and writes nothing.
   */
  async putUpload(session: UploadSession, body: Readable, options: PutOptions): Promise<ObjectInfo> {
    if (session.completed) return session.completed;
    this.assertDeclaredSize(options.contentLength);
    await this.assertQuotaRoom(session.ref, options.contentLength);
    return this.backend.putUpload(session.uploadId, session.ref, body, await this.writeOptions(session.ref, options));
  }

  async cancelUpload(grant: { uploadId: string; ref: ObjectRef }): Promise<void> {
    if (!(await this.backend.abortUpload(grant.uploadId, grant.ref))) throw fail('NoSuchUpload');
  }

  private async completeUpload(session: UploadSession, finish: FinishOptions) {
    // The object's lifetime runs from completion: a tmp upload slower than the tmp TTL must not
    // be born expired.
    const objectExpiresAt = (await this.expiryFor(session.ref, finish.objectTtlMs)) ?? null;
    return this.backend.completeUpload(session.uploadId, {
      condition: finish.condition,
      expectedSha256: finish.expectedSha256,
      now: this.options.clock(),
      objectExpiresAt,
      attributes: finish.attributes,
      purgeAfter: await this.purgeAfterFor(session.ref),
    });
  }

  /** Deletes the object; with retention, the version id of the delete marker that records it (S3's x-amz-version-id). */
  async delete(ref: ObjectRef, condition?: WriteCondition): Promise<{ markerVersionId: string | undefined }> {
    const now = this.options.clock();
    const purgeAfter = await this.purgeAfterFor(ref);
    const markerVersionId = purgeAfter === undefined ? undefined : newVersionId(now);
    const existed = await this.backend.delete(ref, now, condition, purgeAfter, markerVersionId);
    if (!existed) throw fail('NoSuchKey', `No object at ${ref.type}/${ref.key}`);
    return { markerVersionId };
  }

  async list(tenant: string, type: string, query: { prefix: string; pageToken: string | undefined; limit: number }): Promise<ListResult> {
    const limit = Math.min(Math.max(1, query.limit), MAX_LIST_LIMIT);
    const after = query.pageToken === undefined ? undefined : decodePageToken(query.pageToken, query.prefix);
    const page = await this.backend.list(tenant, type, { prefix: query.prefix, after, limit, now: this.options.clock() });
    const last = page.keys.at(-1);
    return { keys: page.keys, next: page.truncated && last !== undefined ? encodePageToken(query.prefix, last) : undefined };
  }

  /** Removes expired objects for good (they are already invisible). */
  async sweep(): Promise<number> {
    return this.backend.sweepExpired(this.options.clock(), (tenant, type) => this.purgeScheduleFor(tenant, type));
  }

  /**
   * When an object written now at `ref` expires: tmp objects live tmpTtl, objects of a named
   * bucket as its lifecycle rules say, the others forever. The one statement of that rule: every
   * write, copy and completion of every front asks it.
   */
  async expiresAtFor(ref: ObjectRef): Promise<number | undefined> {
    return (await this.expiryOf(ref.tenant, ref.type))(ref.key);
  }

  /** When a multipart upload begun now at `ref` goes if neither completed nor aborted (incompleteUploadExpiry). */
  async incompleteUploadExpiresAtFor(ref: ObjectRef, lifetimeMs: number): Promise<UploadExpiry> {
    const rules = (await this.options.lifecycleRules?.(ref.tenant, ref.type)) ?? [];
    return incompleteUploadExpiry(rules, ref.key, this.options.clock(), lifetimeMs);
  }

  /** `expiresAtFor` of every key of one type at once (its rules read once): for the keys of a prefix copy. */
  async expiryOf(tenant: string, type: string): Promise<(key: string) => number | undefined> {
    const now = this.options.clock();
    if (type === 'tmp') return () => now + this.options.tmpTtlMs;
    const rules = (await this.options.lifecycleRules?.(tenant, type)) ?? [];
    return (key) => lifecycleExpiry(rules, key, now);
  }

  /**
   * When the values that writes made now at the tenant's keys of `type` replace are purged, key
   * by key (the type's rules read once): for the keys of a prefix operation.
   */
  async purgeScheduleFor(tenant: string, type: string): Promise<PurgeSchedule> {
    return this.scheduleOf(await this.options.retention?.(tenant, type));
  }

  /** When a value a write made now at `ref` replaces is purged; undefined when none is kept (retention off). */
  async purgeAfterFor(ref: ObjectRef): Promise<number | undefined> {
    // Every write asks: one await, not purgeScheduleFor's two.
    return this.scheduleOf(await this.options.retention?.(ref.tenant, ref.type)).at(ref.key);
  }

  private scheduleOf(retention: Retention | undefined): PurgeSchedule {
    return retention
      ? new PurgeSchedule(retention.windowMs, retention.rules, this.options.clock(), retention.countRules)
      : PurgeSchedule.none;
  }

  /** A per-object lifetime wins over the type's. */
  private async expiryFor(ref: ObjectRef, ttlMs: number | undefined): Promise<number | undefined> {
    if (ttlMs !== undefined) return this.options.clock() + ttlMs;
    return this.expiresAtFor(ref);
  }
}
