import { type ChecksumAlgorithm, type ChecksumType, newDigest } from './checksums.js';
import { combineCrcs } from './crc-combine.js';
import type { S3ChecksumAttribute } from './object-attributes.js';
import { ruleErrors } from './rule-error.js';

/** A part as a completion lists it: its number, and the checksums it names. */
export interface ListedPart {
  readonly number: number;
  readonly checksums: ReadonlyMap<ChecksumAlgorithm, string>;
}

/** What a completion request says of the whole object's checksum. */
export interface ChecksumClaim {
  /** The checksum type the request names (it must be the upload's); read once the parts are checked. */
  readonly type: () => ChecksumType | undefined;
  /** The whole object's checksum of `algorithm` the request gives, if any. */
  readonly value: (algorithm: ChecksumAlgorithm) => string | undefined;
}

/**
 * The object's checksum from its parts', as S3 makes it:
 * - for an upload created with an algorithm, every part has that algorithm's checksum (the part
 *   upload computed it), and a checksum the completion lists must be the part's (InvalidPart). A
 *   COMPOSITE upload must list each part's (InvalidRequest), and gets the checksum of the parts'
 *   binary checksums with `-N`; a FULL_OBJECT one gets the CRC of the whole object, combined from
 *   the parts' CRCs and sizes;
 * - an upload created without one gets a FULL_OBJECT CRC when every part carries one of the same
 *   CRC algorithm (what S3 gives objects whose client checksummed each part), and none otherwise.
 * The completion's type must be the upload's, and the whole object's checksum it gives must equal
 * the result: BadDigest otherwise, nothing stored.
 */
export async function objectChecksumOf(
  upload: S3ChecksumAttribute | undefined,
  listed: readonly ListedPart[],
  parts: ReadonlyArray<{ size: number; checksum: S3ChecksumAttribute | undefined }>,
  claim: ChecksumClaim,
): Promise<S3ChecksumAttribute | undefined> {
  const claimedType = claim.type();
  if (claimedType && upload && claimedType !== upload.type)
    throw ruleErrors.invalidRequest(
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
      throw ruleErrors.invalidRequest(
        `The upload was created using a ${algorithm?.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${want.number} in the request.`,
      );
    if (stored === undefined || (given !== undefined && given !== stored)) throw ruleErrors.invalidPart();
    // Stored values were checked when their part was written.
    return Buffer.from(stored, 'base64');
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
  const expected = claim.value(algorithm);
  if (expected !== undefined && expected !== value)
    throw ruleErrors.badDigest(`The ${algorithm} you specified did not match the calculated checksum.`);
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
