import { fail } from '../../errors.js';
import type { ObjectInfo, UploadGrantInfo } from '../backend.js';
import { isObjectType } from '../buckets.js';
import type { AdvanceUploadOptions, UploadClaim, UploadRecord } from '../object-index.js';
import { type PgDb, type Queries, statement } from './pg-db.js';

const OPEN = 'completed_json IS NULL AND NOT cancelled';

const INSERT = statement(
  'upload_insert',
  `INSERT INTO uploads (upload_id, tenant, type, key, content_type, expires_at, object_expires_at)
   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
);
const FIND = statement('upload_find', 'SELECT * FROM uploads WHERE upload_id = $1');
const CLAIM = statement(
  'upload_claim',
  `UPDATE uploads SET attempt = attempt + 1, next_part = next_part + $3
   WHERE upload_id = $1 AND received = $2 AND ${OPEN} AND ($4::integer IS NULL OR attempt = $4)
   RETURNING attempt, next_part`,
);
const ADVANCE = statement(
  'upload_advance',
  `UPDATE uploads SET received = $3, total = $4, hash_state = $5, staging = $6
   WHERE upload_id = $1 AND attempt = $2 AND ${OPEN}`,
);
const CANCEL = statement('upload_cancel', 'UPDATE uploads SET cancelled = true, received = 0, total = NULL WHERE upload_id = $1');
const DELETE = statement('upload_delete', 'DELETE FROM uploads WHERE upload_id = $1');
const EXPIRED = statement('upload_expired', 'SELECT * FROM uploads WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2');
const IS_OPEN = statement('upload_is_open', `SELECT 1 FROM uploads WHERE upload_id = $1 AND ${OPEN}`);
const COMPLETE = statement('upload_complete', `UPDATE uploads SET completed_json = $2 WHERE upload_id = $1 AND ${OPEN}`);
const STATE = statement('upload_state', 'SELECT completed_json IS NOT NULL AS completed, cancelled FROM uploads WHERE upload_id = $1');

interface UploadRow {
  upload_id: string;
  tenant: string;
  type: string;
  key: Buffer;
  content_type: string;
  expires_at: number;
  received: number;
  total: number | null;
  completed_json: string | null;
  cancelled: boolean;
  hash_state: Buffer | null;
  staging: string | null;
  attempt: number;
}

/** Resumable upload sessions in the `uploads` table, so any server can take a session's next chunk. */
export class PgUploads {
  constructor(private readonly db: PgDb) {}

  async open(grant: UploadGrantInfo): Promise<UploadRecord> {
    const { ref } = grant;
    await this.db.run(INSERT, [
      grant.uploadId,
      ref.tenant,
      ref.type,
      Buffer.from(ref.key, 'utf8'),
      grant.contentType,
      grant.sessionExpiresAt,
      grant.objectExpiresAt ?? null,
    ]);
    const record = await this.find(grant.uploadId);
    if (!record) throw new Error(`upload ${grant.uploadId} vanished right after it was created`);
    return record;
  }

  async find(uploadId: string): Promise<UploadRecord | undefined> {
    const { rows } = await this.db.run<UploadRow>(FIND, [uploadId]);
    return rows[0] && toRecord(rows[0]);
  }

  async claim({
    uploadId,
    offset,
    needsPart,
    continues,
  }: {
    uploadId: string;
    offset: number;
    needsPart: boolean;
    continues?: number | undefined;
  }): Promise<UploadClaim | undefined> {
    const { rows } = await this.db.run<{ attempt: number; next_part: number }>(CLAIM, [
      uploadId,
      offset,
      needsPart ? 1 : 0,
      continues ?? null,
    ]);
    const claim = rows[0];
    return claim && { attempt: claim.attempt, partNumber: needsPart ? claim.next_part : undefined };
  }

  async advance(options: AdvanceUploadOptions): Promise<boolean> {
    const { rowCount } = await this.db.run(ADVANCE, [
      options.uploadId,
      options.attempt,
      options.received,
      options.total ?? null,
      options.hashState,
      options.staging,
    ]);
    return (rowCount ?? 0) > 0;
  }

  async cancel(uploadId: string): Promise<void> {
    await this.db.run(CANCEL, [uploadId]);
  }

  async delete(uploadId: string): Promise<void> {
    await this.db.run(DELETE, [uploadId]);
  }

  async expired({ now, limit }: { now: number; limit: number }): Promise<UploadRecord[]> {
    const { rows } = await this.db.run<UploadRow>(EXPIRED, [now, limit]);
    return rows.map(toRecord);
  }

  async isOpen(uploadId: string): Promise<boolean> {
    const { rowCount } = await this.db.run(IS_OPEN, [uploadId]);
    return (rowCount ?? 0) > 0;
  }

  /** Ends a session inside the transaction that stores its object; throws if it already ended. */
  async markCompleted(tx: Queries, uploadId: string, info: ObjectInfo): Promise<void> {
    const { rowCount } = await tx.run(COMPLETE, [uploadId, JSON.stringify(info)]);
    if (rowCount) return;
    const { rows } = await tx.run<{ completed: boolean; cancelled: boolean }>(STATE, [uploadId]);
    const state = rows[0];
    if (!state || state.cancelled) throw fail('NoSuchUpload');
    throw fail('UploadOffsetMismatch', 'The upload is already complete');
  }
}

function toRecord(row: UploadRow): UploadRecord {
  if (!isObjectType(row.type)) throw new Error(`bad storage type or bucket name in upload ${row.upload_id}`);
  return {
    uploadId: row.upload_id,
    ref: { tenant: row.tenant, type: row.type, key: row.key.toString('utf8') },
    contentType: row.content_type,
    expiresAt: row.expires_at,
    received: row.received,
    total: row.total ?? undefined,
    completed: row.completed_json ? (JSON.parse(row.completed_json) as ObjectInfo) : undefined,
    cancelled: row.cancelled,
    hashState: row.hash_state,
    staging: row.staging,
    attempt: row.attempt,
  };
}
