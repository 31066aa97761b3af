import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type ChecksumType, DIGEST_BYTES } from '../storage/checksums.js';
import { s3Errors } from './errors.js';

export {
  allowsType,
  CHECKSUM_ALGORITHMS,
  type Checksum,
  type ChecksumAlgorithm,
  type ChecksumType,
  type Digest,
  defaultType,
  newDigest,
} from '../storage/checksums.js';

/** The request and response header of an algorithm's value: `x-amz-checksum-crc64nvme`. */
export const checksumHeader = (algorithm: ChecksumAlgorithm) => `x-amz-checksum-${algorithm.toLowerCase()}`;

/** The XML element of an algorithm's value: `ChecksumCRC64NVME`. */
export const checksumElement = (algorithm: ChecksumAlgorithm) => `Checksum${algorithm}`;

/** An algorithm named in a request (any case); S3's InvalidRequest for another. */
export function parseAlgorithm(text: string): ChecksumAlgorithm {
  const algorithm = text.trim().toUpperCase();
  if (!(CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm))
    throw s3Errors.invalidRequest(
      `Checksum algorithm provided is unsupported. Please try again with any of the valid types: [${CHECKSUM_ALGORITHMS.join(', ')}]`,
    );
  return algorithm as ChecksumAlgorithm;
}

/** `x-amz-checksum-type` as S3 takes it; undefined when absent. */
export function parseType(text: string | undefined): ChecksumType | undefined {
  if (text === undefined) return undefined;
  const type = text.trim().toUpperCase();
  if (type !== 'FULL_OBJECT' && type !== 'COMPOSITE') throw s3Errors.invalidRequest('Value for x-amz-checksum-type header is invalid.');
  return type;
}

/** The binary digest of a value as a request gives it; InvalidRequest when it is not one of the algorithm's. */
export function decodeValue(algorithm: ChecksumAlgorithm, value: string, where = `${checksumHeader(algorithm)} header`): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== DIGEST_BYTES[algorithm] || bytes.toString('base64') !== value)
    throw s3Errors.invalidRequest(`Value for ${where} is invalid.`);
  return bytes;
}
