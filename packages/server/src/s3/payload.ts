import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc32c } from '@aws-crypto/crc32c';
import type { FastifyRequest } from 'fastify';
import type { S3Principal } from './authenticate.js';
import { decodeAwsChunked, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER } from './aws-chunked.js';
import { s3Errors } from './errors.js';
import { UNSIGNED_PAYLOAD } from './sigv4.js';

/** A request body as the object's bytes: decoded from aws-chunked when sent so, checked as it ends. */
export interface Payload {
  readonly body: AsyncIterable<Buffer>;
  /** The object's length when known up front (Content-Length, or x-amz-decoded-content-length). */
  readonly length: number | undefined;
  /** The sha256 the signature covers (x-amz-content-sha256 as a hash): the write stores nothing else. */
  readonly expectedSha256: string | undefined;
  /** Hex MD5 of the body, the ETag S3 clients expect; known once the body has been read in full. */
  md5(): string;
}

const CHECKSUMS = ['crc32', 'crc32c', 'sha1', 'sha256'] as const;
type ChecksumName = (typeof CHECKSUMS)[number];

/**
 * The body of a write, per its payload mode: as sent (UNSIGNED-PAYLOAD, or a sha256 the store
 * checks), or aws-chunked with or without chunk signatures and trailers. Content-MD5 and the
 * x-amz-checksum-* values (headers or trailers) are computed over the bytes and compared at the
 * end, so a mismatch fails the write before anything is stored (BadDigest). The MD5 is computed
 * for every body: it is the object's ETag.
 */
export function payloadOf(request: FastifyRequest, principal: S3Principal): Payload {
  const mode = principal.payloadHash;
  const trailers = new Map<string, string>();
  let body: AsyncIterable<Buffer> = request.raw;
  let length = numberHeader(request.headers['content-length']);
  let expectedSha256: string | undefined;
  if (mode === STREAMING_SIGNED || mode === STREAMING_SIGNED_TRAILER || mode === STREAMING_UNSIGNED_TRAILER) {
    const signing = mode === STREAMING_UNSIGNED_TRAILER ? undefined : principal.chunkSigning;
    if (mode !== STREAMING_UNSIGNED_TRAILER && !signing) throw s3Errors.invalidRequest(`${mode} needs a SigV4 signature`);
    body = decodeAwsChunked(request.raw, signing, trailers);
    length = numberHeader(request.headers['x-amz-decoded-content-length']);
  } else if (/^[0-9a-f]{64}$/i.test(mode)) expectedSha256 = mode.toLowerCase();
  else if (mode !== UNSIGNED_PAYLOAD)
    throw s3Errors.invalidArgument(`x-amz-content-sha256 "${mode}" is not a payload mode this endpoint takes`);
  // A presigned URL may carry the checksum in its query instead of a header.
  const query = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '');
  const given: Record<string, string | string[] | undefined> = { ...request.headers };
  for (const [name, value] of query)
    if (/^x-amz-checksum-/i.test(name) || /^x-amz-sdk-checksum-algorithm$/i.test(name)) given[name.toLowerCase()] = value;
  if (
    given['x-amz-checksum-crc64nvme'] !== undefined ||
    /crc64nvme/i.test(String(given['x-amz-trailer'] ?? '')) ||
    /crc64nvme/i.test(String(given['x-amz-sdk-checksum-algorithm'] ?? ''))
  )
    throw s3Errors.notImplemented('The CRC64NVME checksum');
  const computed: { md5?: string } = {};
  return {
    body: verifyDigests(body, given, trailers, computed),
    length,
    expectedSha256,
    md5: () => {
      if (computed.md5 === undefined) throw new Error('the MD5 of a body is known once it has been read');
      return computed.md5;
    },
  };
}

async function* verifyDigests(
  body: AsyncIterable<Buffer>,
  headers: Record<string, string | string[] | undefined>,
  trailers: Map<string, string>,
  computed: { md5?: string },
): AsyncGenerator<Buffer> {
  const md5 = createHash('md5');
  const announced = new Set(
    String(headers['x-amz-trailer'] ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  const wanted = CHECKSUMS.filter((name) => headers[`x-amz-checksum-${name}`] !== undefined || announced.has(`x-amz-checksum-${name}`));
  const digests = new Map(wanted.map((name) => [name, newDigest(name)]));
  for await (const chunk of body) {
    md5.update(chunk);
    for (const digest of digests.values()) digest.update(chunk);
    yield chunk;
  }
  const md5Bytes = md5.digest();
  if (typeof headers['content-md5'] === 'string' && md5Bytes.toString('base64') !== headers['content-md5']) throw s3Errors.badDigest();
  for (const [name, digest] of digests) {
    const expected = headers[`x-amz-checksum-${name}`] ?? trailers.get(`x-amz-checksum-${name}`);
    if (expected !== digest.value())
      throw s3Errors.badDigest(`The ${name.toUpperCase()} you specified did not match the calculated checksum.`);
  }
  computed.md5 = md5Bytes.toString('hex');
}

interface Digest {
  update(chunk: Buffer): void;
  /** Base64 of the big-endian digest, as S3 sends checksums. */
  value(): string;
}

function newDigest(name: ChecksumName): Digest {
  if (name === 'sha1' || name === 'sha256') {
    const hash = createHash(name);
    return { update: (chunk) => hash.update(chunk), value: () => hash.digest('base64') };
  }
  if (name === 'crc32') {
    let value = 0;
    return { update: (chunk) => (value = crc32(chunk, value)), value: () => uint32Base64(value) };
  }
  const crc = new Crc32c();
  return { update: (chunk) => crc.update(chunk), value: () => uint32Base64(crc.digest()) };
}

function uint32Base64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

function numberHeader(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
