import type { FastifyRequest } from 'fastify';
import type { ChecksumAttribute } from '../storage/model.js';
import { allowsType, defaultType, parseAlgorithm, parseType } from './checksums.js';
import { s3Errors } from './errors.js';
import { single } from './header-value.js';

/**
 * The checksum a CreateMultipartUpload asks for (`x-amz-checksum-algorithm`, `x-amz-checksum-type`),
 * as the upload's row keeps it (with an empty value until the completion). The type defaults as
 * S3's does (FULL_OBJECT for CRC64NVME, COMPOSITE for the others), and a type the algorithm does
 * not allow, or a type without an algorithm, is S3's InvalidRequest.
 */
export function uploadChecksumOf(request: FastifyRequest): ChecksumAttribute | undefined {
  const named = single(request.headers['x-amz-checksum-algorithm']);
  const type = parseType(single(request.headers['x-amz-checksum-type']));
  if (named === undefined) {
    if (type !== undefined)
      throw s3Errors.invalidRequest('The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return undefined;
  }
  const algorithm = parseAlgorithm(named);
  const chosen = type ?? defaultType(algorithm);
  if (!allowsType(algorithm, chosen))
    throw s3Errors.invalidRequest(`The ${chosen} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  return { algorithm, type: chosen, value: '' };
}
