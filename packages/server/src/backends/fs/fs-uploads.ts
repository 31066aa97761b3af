import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat, truncate } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isStorageType } from 'stowage-client/protocol';
import { fail } from '../../errors.js';
import type { Failpoint } from '../../failpoints.js';
import type { CompleteUploadOptions, ObjectInfo, UploadGrantInfo, UploadSession, WriteCondition } from '../backend.js';
import { type BodyMeter, meterBody } from '../metered-body.js';
import { rangeHeader } from '../upload-range.js';
import type { BlobFiles } from './blob-files.js';
import type { CommitQueue } from './commit-queue.js';
import type { IndexDb, ObjectRow } from './index-db.js';
import { PreemptibleLocks } from './preemptible-locks.js';

interface UploadRow {
  upload_id: string;
  tenant: string;
  type: string;
  key: Buffer;
  content_type: string;
  expires_at: number;
  object_expires_at: number | null;
  received: number;
  total: number | null;
  completed_json: string | null;
  cancelled: number;
}

/** Commits an object row (checking `condition`) and runs `alsoRun` in the same transaction. */
export type CommitRow = (
  ref: UploadSession['ref'],
  row: Omit<ObjectRow, 'last_modified'>,
  options: { condition: WriteCondition | undefined; now: number; alsoRun?: (info: ObjectInfo) => void },
) => Promise<ObjectInfo>;

/**
 * Resumable upload sessions of the fs backend (the GCS protocol's server side). A session is a
 * row in the index and a part file under `uploads/`; both survive restarts. Each chunk is made
 * durable before `received` advances, so the offset the server reports is always safe to resume
 * from.
 *
 * Completion is idempotent and crash-safe: the part file is hard-linked as a new blob (the part
 * stays), then the object row and the session's end commit in one transaction, and only then is
 * the part removed. A crash before the commit leaves the part and its session as they were (the
 * unreferenced link is an orphan that start-up removes), so the next status query or PUT simply
 * completes again; a crash after it leaves a completed session whose stale part start-up removes.
 */
export class FsUploads {
  private readonly locks = new PreemptibleLocks();
  /** Running sha256 per session, valid while it covers exactly `received` bytes. */
  private readonly hashes = new Map<string, { hash: Hash; covers: number }>();

  constructor(
    private readonly index: IndexDb,
    private readonly commits: CommitQueue,
    private readonly blobs: BlobFiles,
    private readonly commitRow: CommitRow,
    private readonly failpoint: Failpoint,
  ) {}

  /**
   * The session an upload URL names, created on first use. A session belongs to the URL that
   * created it: one whose tenant, key or expiry differ from the row is refused, never served.
   */
  async open(grant: UploadGrantInfo): Promise<UploadSession> {
    const { insertUpload } = this.index.statements;
    await this.commits.enqueue(() =>
      insertUpload.run({
        upload_id: grant.uploadId,
        tenant: grant.ref.tenant,
        type: grant.ref.type,
        key: Buffer.from(grant.ref.key, 'utf8'),
        content_type: grant.contentType,
        expires_at: grant.sessionExpiresAt,
        object_expires_at: grant.objectExpiresAt ?? null,
      }),
    );
    const row = this.requireRow(grant.uploadId);
    const sameUrl =
      row.tenant === grant.ref.tenant &&
      row.type === grant.ref.type &&
      row.key.equals(Buffer.from(grant.ref.key, 'utf8')) &&
      row.expires_at === grant.sessionExpiresAt;
    if (!sameUrl) throw fail('InvalidSignature', 'This upload session belongs to another upload URL');
    return toSession(row);
  }

  /** The session as it stands, its offset checked against the part file. */
  status(uploadId: string): Promise<UploadSession> {
    return this.locks.run(uploadId, async () => toSession(await this.reconcile(this.requireRow(uploadId))));
  }

  append(
    uploadId: string,
    offset: number,
    body: Readable,
    options: { length: number; total: number | undefined; maxBytes: number; signal: AbortSignal | undefined },
  ): Promise<UploadSession> {
    return this.locks.run(uploadId, async (preempted) => {
      preempted.throwIfAborted();
      const row = await this.reconcile(this.requireRow(uploadId));
      if (row.completed_json) throw fail('UploadOffsetMismatch', 'The upload is already complete');
      if (offset !== row.received) {
        throw fail(
          'UploadOffsetMismatch',
          `The chunk starts at ${offset} but the upload stands at ${row.received}`,
          rangeHeader(row.received),
        );
      }
      const total = options.total ?? row.total ?? undefined;
      if (row.total !== null && options.total !== undefined && options.total !== row.total) {
        throw fail('InvalidContentRange', `The total changed from ${row.total} to ${options.total}`);
      }
      if (total !== undefined && offset + options.length > total)
        throw fail('InvalidContentRange', 'The chunk ends past the declared total');
      if (offset + options.length > options.maxBytes) throw fail('EntityTooLarge');

      const part = this.blobs.partPath(uploadId);
      // Bytes past `received` belong to a chunk that was never acknowledged: drop them. The part
      // file holds at least `received` bytes (reconcile checked), so this never pads.
      await truncate(part, offset);
      // Continue the running hash when it covers exactly the bytes before this chunk; a restart
      // loses it, and completion then hashes the part file instead.
      const running = this.hashes.get(uploadId);
      this.hashes.delete(uploadId);
      const hash = running?.covers === offset ? running.hash : offset === 0 ? createHash('sha256') : undefined;
      const meter: BodyMeter = { bytes: 0, sha256: undefined };
      const signal = options.signal ? AbortSignal.any([options.signal, preempted]) : preempted;
      await pipeline(
        meterBody(body, meter, { maxBytes: options.length, expectedBytes: options.length, continueHash: hash, signal }),
        createWriteStream(part, { flags: 'a', flush: this.blobs.fsync, highWaterMark: 256 * 1024 }),
        { signal },
      );
      if (hash) this.hashes.set(uploadId, { hash, covers: offset + options.length });
      this.failpoint('upload.after-append');
      const received = offset + options.length;
      const { updateUpload } = this.index.statements;
      await this.commits.enqueue(() => updateUpload.run({ upload_id: uploadId, received, total: total ?? null }));
      return this.requireSession(uploadId);
    });
  }

  complete(uploadId: string, options: CompleteUploadOptions): Promise<ObjectInfo> {
    return this.locks.run(uploadId, async () => {
      const row = await this.reconcile(this.requireRow(uploadId));
      if (row.completed_json) return JSON.parse(row.completed_json) as ObjectInfo;
      if (row.total === null || row.received !== row.total)
        throw fail(
          'UploadOffsetMismatch',
          `The upload has ${row.received} bytes of ${row.total ?? 'an unknown total'}`,
          rangeHeader(row.received),
        );
      const sha256 = await this.digest(uploadId, row.received);
      if (options.expectedSha256 !== undefined && options.expectedSha256.toLowerCase() !== sha256) {
        await this.remove(uploadId);
        throw fail('ChecksumMismatch', `The upload's sha256 is ${sha256}, not ${options.expectedSha256}; nothing was stored`);
      }
      const blobId = this.blobs.newId();
      await this.blobs.linkPart(uploadId, blobId);
      this.failpoint('upload.after-link');
      const { completeUpload } = this.index.statements;
      let info: ObjectInfo;
      try {
        info = await this.commitRow(
          toSession(row).ref,
          {
            size: row.received,
            sha256,
            content_type: row.content_type,
            expires_at: options.objectExpiresAt,
            blob_id: blobId,
            inline_data: null,
          },
          {
            condition: options.condition,
            now: options.now,
            alsoRun: (committed) => completeUpload.run({ upload_id: uploadId, completed_json: JSON.stringify(committed) }),
          },
        );
      } catch (error) {
        // The part file is still there: the session stays resumable (e.g. after a 412).
        await this.blobs.remove(blobId);
        throw error;
      }
      this.failpoint('upload.after-commit');
      this.hashes.delete(uploadId);
      await rm(this.blobs.partPath(uploadId), { force: true });
      return info;
    });
  }

  /**
   * A whole-body PUT on an upload URL: `write` stores the body and, in its commit, ends the
   * session; an upload URL stores once. A PUT after completion answers the final status (as GCS
   * does) and writes nothing.
   */
  putWhole(uploadId: string, write: (signal: AbortSignal) => Promise<ObjectInfo>): Promise<ObjectInfo> {
    return this.locks.run(uploadId, async (preempted) => {
      preempted.throwIfAborted();
      const row = this.requireRow(uploadId);
      if (row.completed_json) return JSON.parse(row.completed_json) as ObjectInfo;
      if (row.received > 0) {
        throw fail('UploadOffsetMismatch', `The upload stands at ${row.received}: send the rest as chunks`, rangeHeader(row.received));
      }
      const info = await write(preempted);
      await rm(this.blobs.partPath(uploadId), { force: true });
      return info;
    });
  }

  /** The statement that ends a session inside another commit; throws if it already ended. */
  markCompleted(uploadId: string, info: ObjectInfo): void {
    const { findUpload, completeUpload } = this.index.statements;
    const row = findUpload.get(uploadId) as UploadRow | undefined;
    if (!row || row.cancelled) throw fail('NoSuchUpload');
    if (row.completed_json) throw fail('UploadOffsetMismatch', 'The upload is already complete');
    completeUpload.run({ upload_id: uploadId, completed_json: JSON.stringify(info) });
  }

  /**
   * Cancels a session; `ref` must be the one the session was made for. The row stays, marked,
   * until the URL expires: a cancelled or completed upload URL never stores again.
   */
  abort(uploadId: string, ref: UploadSession['ref']): Promise<boolean> {
    return this.locks.run(uploadId, async () => {
      const row = this.findRow(uploadId);
      if (!row || row.cancelled) return false;
      if (row.tenant !== ref.tenant || row.type !== ref.type || row.key.toString('utf8') !== ref.key) {
        throw fail('InvalidSignature', 'This upload session belongs to another upload URL');
      }
      if (row.completed_json) throw fail('NoSuchUpload', 'The upload already completed; there is nothing to cancel');
      this.hashes.delete(uploadId);
      const { cancelUpload } = this.index.statements;
      await this.commits.enqueue(() => cancelUpload.run(uploadId));
      await rm(this.blobs.partPath(uploadId), { force: true });
      return true;
    });
  }

  /** Removes sessions whose URL expired, with their part files. */
  async sweep(now: number): Promise<number> {
    const ids = this.index.statements.expiredUploads.pluck().all(now) as string[];
    for (const id of ids) await this.locks.run(id, () => this.remove(id));
    return ids.length;
  }

  /** Start-up cleanup of part files that belong to no open session. */
  async removeStaleParts(): Promise<void> {
    const open = new Set(this.index.statements.openUploadIds.all() as unknown as string[]);
    await this.blobs.removeStaleParts((id) => open.has(id));
  }

  /**
   * Makes the recorded offset true to the part file. A crash (or a disk that lost its unsynced
   * tail) can leave the part shorter than `received`: the session then moves back to what the
   * file holds, so the client resends the rest instead of the gap being padded with zeros.
   */
  private async reconcile(row: UploadRow): Promise<UploadRow> {
    if (row.completed_json) return row;
    const held = await this.partLength(row.upload_id);
    if (held >= row.received) return row;
    this.hashes.delete(row.upload_id);
    const { updateUpload } = this.index.statements;
    await this.commits.enqueue(() => updateUpload.run({ upload_id: row.upload_id, received: held, total: row.total }));
    return { ...row, received: held };
  }

  /** The part file's length, creating it (durably) when missing. */
  private async partLength(uploadId: string): Promise<number> {
    const part = this.blobs.partPath(uploadId);
    try {
      return (await stat(part)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await (await open(part, 'a', 0o600)).close();
    // The new name must survive a crash, or the bytes appended later would vanish with it.
    await this.blobs.syncPartDir();
    return 0;
  }

  private async remove(uploadId: string): Promise<void> {
    this.hashes.delete(uploadId);
    const { deleteUpload } = this.index.statements;
    await this.commits.enqueue(() => deleteUpload.run(uploadId));
    await rm(this.blobs.partPath(uploadId), { force: true });
  }

  private async digest(uploadId: string, size: number): Promise<string> {
    const running = this.hashes.get(uploadId);
    if (running && running.covers === size) return running.hash.copy().digest('hex');
    // After a restart the running hash is gone: hash the part file once more.
    const hash = createHash('sha256');
    if (size > 0) for await (const chunk of createReadStream(this.blobs.partPath(uploadId), { end: size - 1 })) hash.update(chunk);
    return hash.digest('hex');
  }

  private findRow(uploadId: string): UploadRow | undefined {
    return this.index.statements.findUpload.get(uploadId) as UploadRow | undefined;
  }

  private requireRow(uploadId: string): UploadRow {
    const row = this.findRow(uploadId);
    if (!row) throw fail('NoSuchUpload');
    if (row.cancelled) throw fail('NoSuchUpload', 'This upload was cancelled');
    return row;
  }

  private requireSession(uploadId: string): UploadSession {
    return toSession(this.requireRow(uploadId));
  }
}

function toSession(row: UploadRow): UploadSession {
  if (!isStorageType(row.type)) throw new Error(`bad storage type in upload ${row.upload_id}`);
  return {
    uploadId: row.upload_id,
    ref: { tenant: row.tenant, type: row.type, key: row.key.toString('utf8') },
    received: row.received,
    total: row.total ?? undefined,
    completed: row.completed_json ? (JSON.parse(row.completed_json) as ObjectInfo) : undefined,
  };
}
