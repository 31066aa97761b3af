import type { ChecksumAttribute } from '../storage/model.js';
import { type ChecksumAlgorithm, checksumElement, checksumHeader } from './checksums.js';

/** The response headers of a checksum: its value under its algorithm's name, and its type. */
export function checksumHeaders(checksum: ChecksumAttribute | undefined, withType = true): Record<string, string> {
  if (!checksum) return {};
  const headers: Record<string, string> = { [checksumHeader(checksum.algorithm as ChecksumAlgorithm)]: checksum.value };
  if (withType) headers['x-amz-checksum-type'] = checksum.type;
  return headers;
}

/** The XML elements of a checksum (`ChecksumCRC32`, and `ChecksumType` unless left out), for result documents. */
export function checksumElements(checksum: ChecksumAttribute | undefined, withType = true): Record<string, string> {
  if (!checksum) return {};
  const elements: Record<string, string> = { [checksumElement(checksum.algorithm as ChecksumAlgorithm)]: checksum.value };
  if (withType) elements.ChecksumType = checksum.type;
  return elements;
}
