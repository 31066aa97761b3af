import { randomFillSync } from 'node:crypto';
import type { AttributeLayout, ObjectAttributes } from './backend.js';
import type { IndexRow } from './object-index.js';

/** An object's row as both indexes store it, column for column. */
export interface ObjectColumns {
  size: number;
  sha256: string;
  content_type: string;
  last_modified: number;
  expires_at: number | null;
  blob_id: string | null;
  inline_data: Buffer | null;
  /** ObjectAttributes as JSON; null when the object has none. */
  attributes: string | null;
  /** Null in rows written before rows had version ids. */
  version_id?: string | null;
  current_since?: number | null;
}

export function rowFromColumns(row: ObjectColumns, layout: AttributeFields): IndexRow {
  return {
    size: row.size,
    sha256: row.sha256,
    contentType: row.content_type,
    lastModified: row.last_modified,
    expiresAt: row.expires_at,
    blobId: row.blob_id,
    inline: row.inline_data,
    attributes: parseAttributes(row.attributes, layout),
    ...(row.version_id !== undefined ? { versionId: row.version_id ?? NULL_VERSION_ID } : {}),
    ...(row.current_since !== undefined ? { currentSince: row.current_since ?? row.last_modified } : {}),
  };
}

/** The version id of a row written before rows had one (S3's name for it). */
export const NULL_VERSION_ID = 'null';

/** Random bytes of a version id. */
const VERSION_ID_RANDOM_BYTES = 9;
/**
 * Random bytes for version ids, drawn 512 ids at a time: every write takes one, and a call to the
 * system's generator per id cost a small PUT several microseconds (as randomUUID pools its own).
 */
const versionIdRandom = Buffer.alloc(VERSION_ID_RANDOM_BYTES * 512);
let versionIdRandomAt = versionIdRandom.length;

/** A new version id: sortable by time (base36 ms), then random. */
export function newVersionId(now: number): string {
  if (versionIdRandomAt === versionIdRandom.length) {
    randomFillSync(versionIdRandom);
    versionIdRandomAt = 0;
  }
  const random = versionIdRandom.toString('base64url', versionIdRandomAt, versionIdRandomAt + VERSION_ID_RANDOM_BYTES);
  versionIdRandomAt += VERSION_ID_RANDOM_BYTES;
  return `${Math.max(0, Math.floor(now)).toString(36).padStart(9, '0')}${random}`;
}

export function columnsFromRow(row: IndexRow): ObjectColumns {
  return {
    size: row.size,
    sha256: row.sha256,
    content_type: row.contentType,
    last_modified: row.lastModified,
    expires_at: row.expiresAt,
    blob_id: row.blobId,
    inline_data: row.inline,
    attributes: serializeAttributes(row.attributes),
    version_id: row.versionId ?? null,
    current_since: row.currentSince ?? null,
  };
}

/** The fields of the attributes column every front has; the domain's other fields go in neither group under these names. */
const COMMON_FIELDS = new Set(['metadata', 'cacheControl', 'contentDisposition']);

/** An `AttributeLayout` as the index reads with it. */
export interface AttributeFields {
  readonly content: ReadonlySet<string>;
}

export function attributeFields(layout: AttributeLayout): AttributeFields {
  return { content: new Set(layout.contentFields) };
}

/**
 * The `attributes` column of a row: JSON, or null for none (most objects: no bytes spent). The
 * domain's fields of both groups are stored flat beside the common ones, under their own names:
 * the stored format is the same whatever version wrote it.
 */
export function serializeAttributes(attributes: ObjectAttributes | null): string | null {
  if (!attributes) return null;
  const stored: Record<string, unknown> = {
    metadata: attributes.metadata,
    cacheControl: attributes.cacheControl,
    contentDisposition: attributes.contentDisposition,
  };
  for (const group of [attributes.chosen, attributes.content]) {
    for (const [name, value] of Object.entries(group ?? {})) {
      if (!COMMON_FIELDS.has(name) && value !== undefined && value !== null) stored[name] = value;
    }
  }
  return JSON.stringify(stored);
}

/** The attributes a column holds, each of the domain's fields in its group (`content` when the layout names it, else `chosen`). */
export function parseAttributes(column: string | null, layout: AttributeFields): ObjectAttributes | null {
  if (column === null) return null;
  const { metadata, cacheControl, contentDisposition, ...fields } = JSON.parse(column) as Record<string, unknown>;
  const content: Record<string, unknown> = {};
  const chosen: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    if (layout.content.has(name)) content[name] = value;
    else chosen[name] = value;
  }
  return {
    metadata: (metadata as Record<string, string> | undefined) ?? {},
    cacheControl: (cacheControl as string | null | undefined) ?? null,
    contentDisposition: (contentDisposition as string | null | undefined) ?? null,
    ...(Object.keys(chosen).length > 0 ? { chosen } : {}),
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
}
