import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, truncate } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isStorageType } from 'stowage-client/protocol';
import { fail } from '../../errors.js';
import { assertCondition } from '../../storage/preconditions.js';
import type { ObjectInfo, UploadGrantInfo, UploadSession, WriteCondition } from '../backend.js';
import { type BodyMeter, meterBody } from '../metered-body.js';
import type { BlobFiles } from './blob-files.js';
import type { CommitQueue } from './commit-queue.js';
import { type AnyObjectRow, type IndexDb, type ObjectRow, visibleEtag } from './index-db.js';

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
}

type CommitRow = (
  ref: UploadSession['ref'],
  row: Omit<ObjectRow, 'last_modified'>,
  options: { condition: WriteCondition | undefined; now: number; alsoRun?: (info: ObjectInfo) => void },
) => Promise<ObjectInfo>;

/**
 * Resumable upload sessions of the fs backend (the GCS protocol's server side). A session is a
 * row in the index and a part file under `uploads/`; both survive restarts. Each chunk is made
 * durable before `received` advances, so the offset the server reports is always safe to resume
 * from. Completion renames the part file into a blob and commits the object row and the
 * session's end in one transaction: the value appears atomically with its last byte.
 */
export class FsUploads {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Running sha256 per session, valid while it covers exactly `received` bytes. */
  private readonly hashes = new Map<string, { hash: Hash; covers: number }>();

  constructor(
    private readonly index: IndexDb,
    private readonly commits: CommitQueue,
    private readonly blobs: BlobFiles,
    private readonly commitRow: CommitRow,
  ) {}

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
    return this.requireSession(grant.uploadId);
  }

  append(
    uploadId: string,
    offset: number,
    body: Readable,
    options: { length: number; total: number | undefined; maxBytes: number; signal: AbortSignal | undefined },
  ): Promise<UploadSession> {
    return this.withLock(uploadId, async () => {
      const row = this.requireRow(uploadId);
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
      // Bytes past `received` belong to a chunk that was never acknowledged: drop them.
      await (await open(part, 'a')).close();
      await truncate(part, offset);
      // Continue the running hash when it covers exactly the bytes before this chunk; a restart
      // loses it, and completion then hashes the part file instead.
      const running = this.hashes.get(uploadId);
      this.hashes.delete(uploadId);
      const hash = running?.covers === offset ? running.hash : offset === 0 ? createHash('sha256') : undefined;
      const meter: BodyMeter = { bytes: 0, sha256: undefined };
      await pipeline(
        meterBody(body, meter, { maxBytes: options.length, expectedBytes: options.length, continueHash: hash }),
        createWriteStream(part, { flags: 'a', flush: this.blobs.fsync, highWaterMark: 256 * 1024 }),
        { signal: options.signal },
      );
      if (hash) this.hashes.set(uploadId, { hash, covers: offset + options.length });
      const received = offset + options.length;
      const { updateUpload } = this.index.statements;
      await this.commits.enqueue(() => updateUpload.run({ upload_id: uploadId, received, total: total ?? null }));
      return this.requireSession(uploadId);
    });
  }

  complete(
    uploadId: string,
    options: { condition: WriteCondition | undefined; expectedSha256: string | undefined; now: number },
  ): Promise<ObjectInfo> {
    return this.withLock(uploadId, async () => {
      const row = this.requireRow(uploadId);
      if (row.completed_json) return JSON.parse(row.completed_json) as ObjectInfo;
      if (row.total === null || row.received !== row.total)
        throw fail('InvalidContentRange', `The upload has ${row.received} bytes of ${row.total ?? 'an unknown total'}`);
      const session = toSession(row);
      const sha256 = await this.digest(uploadId, row.received);
      if (options.expectedSha256 !== undefined && options.expectedSha256.toLowerCase() !== sha256) {
        await this.remove(uploadId);
        throw fail('ChecksumMismatch', `The upload's sha256 is ${sha256}, not ${options.expectedSha256}; nothing was stored`);
      }
      // Checked here too (and again in the commit): a refusal now keeps the part file resumable.
      const current = this.index.statements.findAny.get({ tenant: row.tenant, type: row.type, key: row.key }) as AnyObjectRow | undefined;
      assertCondition(visibleEtag(current, options.now), options.condition);

      const blobId = this.blobs.newId();
      await this.blobs.adoptPart(uploadId, blobId);
      const { completeUpload } = this.index.statements;
      try {
        return await this.commitRow(
          session.ref,
          {
            size: row.received,
            sha256,
            content_type: row.content_type,
            expires_at: row.object_expires_at,
            blob_id: blobId,
            inline_data: null,
          },
          {
            condition: options.condition,
            now: options.now,
            alsoRun: (info) => completeUpload.run({ upload_id: uploadId, completed_json: JSON.stringify(info) }),
          },
        );
      } catch (error) {
        // The part file is gone (it became the blob): the session cannot be resumed.
        await this.blobs.remove(blobId);
        await this.remove(uploadId);
        throw error;
      }
    });
  }

  abort(uploadId: string): Promise<boolean> {
    return this.withLock(uploadId, async () => {
      const existed = this.findRow(uploadId) !== undefined;
      await this.remove(uploadId);
      return existed;
    });
  }

  /** Removes sessions whose URL expired, with their part files. */
  async sweep(now: number): Promise<number> {
    const ids = this.index.statements.expiredUploads.pluck().all(now) as string[];
    for (const id of ids) await this.abort(id);
    return ids.length;
  }

  /** Start-up cleanup of part files that belong to no open session. */
  async removeStaleParts(): Promise<void> {
    const open = new Set(this.index.statements.openUploadIds.all() as unknown as string[]);
    await this.blobs.removeStaleParts((id) => open.has(id));
  }

  private async remove(uploadId: string): Promise<void> {
    this.hashes.delete(uploadId);
    const { deleteUpload } = this.index.statements;
    await this.commits.enqueue(() => deleteUpload.run(uploadId));
    await rm(this.blobs.partPath(uploadId), { force: true });
  }

  private async digest(uploadId: string, size: number): Promise<string> {
    const running = this.hashes.get(uploadId);
    this.hashes.delete(uploadId);
    if (running && running.covers === size) return running.hash.digest('hex');
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
    return row;
  }

  private requireSession(uploadId: string): UploadSession {
    return toSession(this.requireRow(uploadId));
  }

  /** Serializes work on one session: chunks of one upload never interleave. */
  private withLock<T>(uploadId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(uploadId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => {});
    this.locks.set(uploadId, settled);
    settled.then(() => {
      if (this.locks.get(uploadId) === settled) this.locks.delete(uploadId);
    });
    return next;
  }
}

/** The `Range` header a 308 (or a 409) carries: the bytes the server holds. */
export function rangeHeader(received: number): Record<string, string> {
  return received > 0 ? { range: `bytes=0-${received - 1}` } : {};
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
