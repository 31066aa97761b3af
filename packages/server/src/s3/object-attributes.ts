import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../http/context.js';
import { checkedRead, type ReadAccess } from '../storage/access.js';
import { contentOf, type ObjectInfo, type ObjectRef } from '../storage/model.js';
import { md5Etag } from '../storage/object-etags.js';
import { checksumElements } from './checksum-answers.js';
import { type ChecksumAlgorithm, checksumElement } from './checksums.js';
import { s3Errors } from './errors.js';
import { single } from './header-value.js';
import { sendXml } from './xml.js';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
const MAX_PARTS = 1000;

/**
 * GetObjectAttributes (`GET ?attributes`): the attributes `x-amz-object-attributes` names, from
 * the object's row alone. As S3 answers it, the ETag comes unquoted, a composite checksum without
 * its `-N` (ObjectParts gives the count), and ObjectParts lists parts (paged by
 * `x-amz-part-number-marker` and `x-amz-max-parts`) for a multipart object that has checksums.
 */
export async function getObjectAttributes(
  ctx: AppContext,
  request: FastifyRequest,
  reply: FastifyReply,
  ref: ObjectRef,
  check?: ReadAccess['check'],
) {
  const wanted = new Set(
    String(request.headers['x-amz-object-attributes'] ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
  );
  if (wanted.size === 0)
    throw s3Errors.invalidRequest(
      'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty',
    );
  for (const name of wanted)
    if (!(ATTRIBUTES as readonly string[]).includes(name)) throw s3Errors.invalidArgument(`Invalid attribute name specified: ${name}`);
  const info = await checkedRead(check, () => ctx.objects.head(ref));
  check?.(info);
  const body: Record<string, unknown> = {};
  const checksum = contentOf(info.attributes).s3Checksum;
  if (wanted.has('ETag')) body.ETag = md5Etag(info).replaceAll('"', '');
  if (wanted.has('Checksum') && checksum) body.Checksum = checksumElements({ ...checksum, value: checksum.value.replace(/-\d+$/, '') });
  if (wanted.has('ObjectParts') && contentOf(info.attributes).parts) body.ObjectParts = objectParts(request, info);
  if (wanted.has('StorageClass')) body.StorageClass = 'STANDARD';
  if (wanted.has('ObjectSize')) body.ObjectSize = info.size;
  reply.header('last-modified', new Date(info.lastModified).toUTCString());
  return sendXml(reply, 'GetObjectAttributesResponse', body);
}

function objectParts(request: FastifyRequest, info: ObjectInfo): Record<string, unknown> {
  const count = contentOf(info.attributes).parts ?? 0;
  const marker = numberHeader(request, 'x-amz-part-number-marker', 0);
  const max = Math.min(numberHeader(request, 'x-amz-max-parts', MAX_PARTS), MAX_PARTS);
  // The SDKs' TotalPartsCount is the element PartsCount.
  const answer: Record<string, unknown> = { PartsCount: count };
  const checksum = contentOf(info.attributes).s3Checksum;
  const sizes = partSizes(info);
  // Parts are listed only when the upload checksummed them, as S3 does.
  if (!checksum?.parts || !sizes) return answer;
  const algorithm = checksum.algorithm as ChecksumAlgorithm;
  const digests = Buffer.from(checksum.parts, 'base64');
  const width = digests.length / count;
  const numbers = Array.from({ length: count }, (_, i) => i + 1).filter((number) => number > marker);
  const page = numbers.slice(0, max);
  Object.assign(answer, { PartNumberMarker: marker, MaxParts: max, IsTruncated: numbers.length > max });
  if (numbers.length > max) answer.NextPartNumberMarker = page.at(-1);
  answer.Part = page.map((number) => ({
    PartNumber: number,
    Size: sizes[number - 1],
    [checksumElement(algorithm)]: digests.subarray((number - 1) * width, number * width).toString('base64'),
  }));
  return answer;
}

/** Each part's size: from the uniform part size, or as the completion recorded them. */
function partSizes(info: ObjectInfo): readonly number[] | undefined {
  const { parts: count = 0, partSize: size, s3Checksum } = contentOf(info.attributes);
  if (size) return Array.from({ length: count }, (_, i) => (i === count - 1 ? info.size - size * (count - 1) : size));
  return s3Checksum?.partSizes;
}

function numberHeader(request: FastifyRequest, name: string, fallback: number): number {
  const raw = single(request.headers[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw s3Errors.invalidArgument(`${name} must be a whole number`);
  return Number(raw);
}
