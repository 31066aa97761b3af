import type { Statement } from 'better-sqlite3';
import type { ObjectColumns } from '../object-columns.js';
import { type IndexDb, SOFT_DELETED } from './index-db.js';

const VISIBLE = '(expires_at IS NULL OR expires_at > @now)';
const IN_RANGE = 'tenant = @tenant AND type = @type AND key >= @start AND key < @end';
const FULL_ROW =
  'id, key, size, sha256, content_type, last_modified, expires_at, blob_id, inline_data, attributes, version_id, current_since';

/** A whole row of `objects`, as the statements of copy, move and range deletes read it. */
export interface FullObjectRow extends ObjectColumns {
  id: number;
  key: Buffer;
}

export type RangeStatements = Record<
  'scanKeys' | 'scanDetails' | 'countRange' | 'rangeRows' | 'removeRange' | 'batchEnd' | 'findFull',
  Statement
>;

/** A row `removeRange` deleted: key, size, blob id, expiry. */
export type RemovedTuple = [key: Buffer, size: number, blobId: string | null, expiresAt: number | null];

/** The statements of the operations on key ranges and on several keys (prepared once, with the index). */
export function prepareRangeStatements({ db }: IndexDb): RangeStatements {
  return {
    scanKeys: db.prepare(`SELECT key FROM objects WHERE ${IN_RANGE} AND ${VISIBLE} ORDER BY key LIMIT @limit`).pluck(),
    scanDetails: db.prepare(
      `SELECT key, size, sha256, content_type, last_modified, expires_at, NULL AS blob_id, NULL AS inline_data, attributes
       FROM objects WHERE ${IN_RANGE} AND ${VISIBLE} ORDER BY key LIMIT @limit`,
    ),
    countRange: db.prepare(`SELECT COUNT(*) AS objects, COALESCE(SUM(size), 0) AS bytes FROM objects WHERE ${IN_RANGE} AND ${VISIBLE}`),
    rangeRows: db.prepare(`SELECT ${FULL_ROW} FROM objects WHERE ${IN_RANGE} ORDER BY key LIMIT @limit`),
    // One statement for a batch: a row a time would cost a statement step and a bind per row. A
    // row deleted in place under retention is a version, and stays.
    removeRange: db
      .prepare(
        `DELETE FROM objects WHERE id IN (SELECT id FROM objects WHERE ${IN_RANGE} ORDER BY key LIMIT @limit) AND NOT ${SOFT_DELETED}
         RETURNING key, size, blob_id, expires_at`,
      )
      .raw(true),
    // The key of a batch's last row (`@offset`: the batch's size less one), if the batch is full.
    batchEnd: db.prepare(`SELECT key FROM objects WHERE ${IN_RANGE} ORDER BY key LIMIT 1 OFFSET @offset`).pluck(),
    findFull: db.prepare(`SELECT ${FULL_ROW} FROM objects WHERE tenant = @tenant AND type = @type AND key = @key`),
  };
}
