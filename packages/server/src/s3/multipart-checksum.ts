import type { S3ChecksumAttribute } from '../backends/backend.js';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  type ChecksumType,
  checksumElement,
  checksumHeader,
  decodeValue,
  newDigest,
  parseType,
} from './checksums.js';
import { combineCrcs } from './crc-combine.js';
import { s3Errors } from './errors.js';

/** A part as CompleteMultipartUpload lists it: its number, and the checksums it names (`ChecksumCRC32`…). */
export interface ListedPart {
  readonly number: number;
  readonly checksums: ReadonlyMap<ChecksumAlgorithm, string>;
}

/** The checksums a `<Part>` element of CompleteMultipartUpload names. */
export function listedChecksums(part: Record<string, unknown>): Map<ChecksumAlgorithm, string> {
  const found = new Map<ChecksumAlgorithm, string>();
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = part[checksumElement(algorithm)];
    if (value !== undefined) found.set(algorithm, String(value).trim());
  }
  return found;
}

/**
 * The object's checksum from its parts', as S3 makes it:
 * - for an upload created with an algorithm, every part has that algorithm's checksum (the part
 *   upload computed it), and a checksum the Complete lists must be the part's (InvalidPart). A
 *   COMPOSITE upload must list each part's (InvalidRequest), and gets the checksum of the parts'
 *   binary checksums with `-N`; a FULL_OBJECT one gets the CRC of the whole object, combined from
 *   the parts' CRCs and sizes;
 * - an upload created without one gets a FULL_OBJECT CRC when every part carries one of the same
 *   CRC algorithm (what S3 gives objects whose client checksummed each part), and none otherwise.
 * A Complete's own `x-amz-checksum-type` must be the upload's, and its `x-amz-checksum-ALGORITHM`
 * (the whole object's checksum) must equal the result: BadDigest otherwise, nothing stored.
 */
export async function objectChecksumOf(
  upload: S3ChecksumAttribute | undefined,
  listed: readonly ListedPart[],
  parts: ReadonlyArray<{ size: number; checksum: S3ChecksumAttribute | undefined }>,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Promise<S3ChecksumAttribute | undefined> {
  const requestedType = parseType(headerText(headers['x-amz-checksum-type']));
  if (requestedType && upload && requestedType !== upload.type)
    throw s3Errors.invalidRequest(
      `The upload was created using the ${upload.type} checksum mode. The complete request must use the same checksum mode.`,
    );
  let algorithm = upload?.algorithm as ChecksumAlgorithm | undefined;
  let type: ChecksumType | undefined = upload?.type;
  if (!algorithm) {
    const first = parts[0]?.checksum?.algorithm as ChecksumAlgorithm | undefined;
    const same = (checksum: S3ChecksumAttribute | undefined) => checksum?.algorithm === first && checksum?.type === 'FULL_OBJECT';
    if (!first?.startsWith('CRC') || !parts.every((part) => same(part.checksum))) return undefined;
    [algorithm, type] = [first, 'FULL_OBJECT'];
  }
  const digests = parts.map((part, i) => {
    const want = listed[i] as ListedPart;
    // A part's own checksum is of its bytes (a part copied whole from a multipart object may carry a composite one: not that).
    const stored = part.checksum?.algorithm === algorithm && part.checksum.type === 'FULL_OBJECT' ? part.checksum.value : undefined;
    const given = want.checksums.get(algorithm as ChecksumAlgorithm);
    if (upload && type === 'COMPOSITE' && given === undefined)
      throw s3Errors.invalidRequest(
        `The upload was created using a ${algorithm?.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${want.number} in the request.`,
      );
    if (stored === undefined || (given !== undefined && given !== stored)) throw s3Errors.invalidPart();
    return decodeValue(algorithm as ChecksumAlgorithm, stored);
  });
  let value: string;
  if (type === 'COMPOSITE') {
    const digest = newDigest(algorithm);
    for (const bytes of digests) digest.update(bytes);
    value = `${(await digest.digest()).toString('base64')}-${digests.length}`;
  } else {
    value = combineCrcs(
      algorithm,
      digests.map((crc, i) => ({ crc, length: (parts[i] as { size: number }).size })),
    ).toString('base64');
  }
  const expected = headerText(headers[checksumHeader(algorithm)]);
  if (expected !== undefined && expected !== value)
    throw s3Errors.badDigest(`The ${algorithm} you specified did not match the calculated checksum.`);
  const sizes = parts.map((part) => part.size);
  const uniform = sizes.every((size, i) => i === sizes.length - 1 || size === sizes[0]);
  return {
    algorithm,
    type: type as ChecksumType,
    value,
    parts: Buffer.concat(digests).toString('base64'),
    ...(uniform ? {} : { partSizes: sizes }),
  };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
