import { MAX_KEY_BYTES } from 'stowage-client/protocol';
import type { ObjectAttributes } from './backend.js';
import type { IndexRow, TransferOptions } from './object-index.js';

/**
 * The destination row of a copy or move: the source's value (the same blob or inline bytes),
 * content type and attributes; its expiry unless it had none and the destination gives one
 * (`tmp`), or the destination's own (`expiresAt`, a part of a multipart upload); a fresh Last-Modified for a copy, the source's for a move. Attributes that replace the
 * source's still keep what describes the bytes (their `content` group): the copy names the same bytes.
 */
export function transferredRow(
  source: IndexRow,
  options: Pick<TransferOptions, 'lastModified' | 'expiresAtIfNone' | 'expiresAt' | 'replace'>,
): IndexRow {
  return {
    ...source,
    lastModified: options.lastModified ?? source.lastModified,
    expiresAt: options.expiresAt ?? source.expiresAt ?? options.expiresAtIfNone,
    ...(options.replace
      ? { contentType: options.replace.contentType, attributes: replacedAttributes(source, options.replace.attributes) }
      : {}),
  };
}

/** The destination of `key` when `fromPrefix` is replaced by `toPrefix`; undefined when it would be too long. */
export function destinationKey(key: Buffer, fromPrefix: Buffer, toPrefix: Buffer): Buffer | undefined {
  const length = toPrefix.length + key.length - fromPrefix.length;
  if (length > MAX_KEY_BYTES) return undefined;
  return Buffer.concat([toPrefix, key.subarray(fromPrefix.length)], length);
}

function replacedAttributes(source: IndexRow, replacement: ObjectAttributes | null): ObjectAttributes | null {
  const content = source.attributes?.content;
  if (!replacement && !content) return null;
  const { content: _described, ...chosen } = replacement ?? { metadata: {}, cacheControl: null, contentDisposition: null };
  return content ? { ...chosen, content } : chosen;
}
