import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { S3Principal } from './authenticate.js';
import { decodeAwsChunked, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER } from './aws-chunked.js';
import { type Checksum, type ChecksumAlgorithm, checksumHeader, decodeValue, newDigest } from './checksums.js';
import { S3Error, s3Errors } from './errors.js';
import { type DeclaredChecksum, declaredChecksum } from './request-checksum.js';
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
  /** The body's flexible checksum, verified, when the request declared one or the options asked for one; known at its end. */
  checksum(): Checksum | undefined;
}

/** What a write asks of its payload beyond the request's own declarations. */
export interface PayloadOptions {
  /**
   * An algorithm to compute whatever the request sends: a part of a multipart upload created
   * with one. A request that declares another algorithm is S3's InvalidRequest.
   */
  readonly algorithm?: ChecksumAlgorithm | undefined;
  /**
   * False when the request's x-amz-checksum-* headers describe something else than its body
   * (CompleteMultipartUpload's are the object's): then only a trailer is checked against the body.
   */
  readonly checksumHeaders?: boolean | undefined;
}

/**
 * The body of a write, per its payload mode: as sent (UNSIGNED-PAYLOAD, or a sha256 the store
 * checks), or aws-chunked with or without chunk signatures and trailers. Content-MD5 and the one
 * x-amz-checksum-* value (header, trailer or presigned query; request-checksum.ts) are computed
 * over the bytes and compared at the end, so a mismatch fails the write before anything is
 * stored (BadDigest). The MD5 is computed for every body: it is the object's ETag.
 */
export function payloadOf(request: FastifyRequest, principal: S3Principal, options: PayloadOptions = {}): Payload {
  const mode = principal.payloadHash;
  const trailers = new Map<string, string>();
  let body: AsyncIterable<Buffer> = request.raw;
  let length = numberHeader(request.headers['content-length']);
  let expectedSha256: string | undefined;
  const chunked = mode === STREAMING_SIGNED || mode === STREAMING_SIGNED_TRAILER || mode === STREAMING_UNSIGNED_TRAILER;
  if (chunked) {
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
  if (options.checksumHeaders === false)
    for (const name of Object.keys(given)) if (/^x-amz-(sdk-)?checksum-/.test(name)) delete given[name];
  const declared = declaredChecksum(given);
  if (declared?.trailer && !chunked)
    throw s3Errors.invalidRequest('x-amz-trailer names a checksum, but the body is not aws-chunked: it cannot carry a trailer.');
  if (declared && options.algorithm && declared.algorithm !== options.algorithm)
    throw s3Errors.invalidRequest(
      `Checksum Type mismatch occurred, expected checksum Type: ${options.algorithm.toLowerCase()}, actual checksum Type: ${declared.algorithm.toLowerCase()}`,
    );
  const algorithm = declared?.algorithm ?? options.algorithm;
  const contentMd5 = typeof given['content-md5'] === 'string' ? given['content-md5'] : undefined;
  const computed: { md5?: string; checksum?: Checksum } = {};
  return {
    body: verifyDigests(body, { contentMd5, declared, algorithm, trailers }, computed),
    length,
    expectedSha256,
    md5: () => {
      if (computed.md5 === undefined) throw new Error('the MD5 of a body is known once it has been read');
      return computed.md5;
    },
    checksum: () => computed.checksum,
  };
}

interface Expected {
  readonly contentMd5: string | undefined;
  readonly declared: DeclaredChecksum | undefined;
  /** What to compute: the declared algorithm, or the one the options ask for. */
  readonly algorithm: ChecksumAlgorithm | undefined;
  readonly trailers: ReadonlyMap<string, string>;
}

async function* verifyDigests(body: AsyncIterable<Buffer>, expected: Expected, computed: { md5?: string; checksum?: Checksum }) {
  const md5 = createHash('md5');
  const digest = expected.algorithm ? newDigest(expected.algorithm) : undefined;
  for await (const chunk of body) {
    md5.update(chunk);
    digest?.update(chunk);
    yield chunk;
  }
  const md5Bytes = md5.digest();
  if (expected.contentMd5 !== undefined && md5Bytes.toString('base64') !== expected.contentMd5) throw s3Errors.badDigest();
  if (digest && expected.algorithm) {
    const value = (await digest.digest()).toString('base64');
    const { declared } = expected;
    if (declared) {
      const name = checksumHeader(declared.algorithm);
      let given = declared.value;
      if (declared.trailer) {
        given = expected.trailers.get(name);
        if (given === undefined)
          throw new S3Error('MalformedTrailerError', `The request announced the trailer ${name} but its body did not send it.`);
        decodeValue(declared.algorithm, given, `the ${name} trailer`);
      }
      if (given !== value) throw s3Errors.badDigest(`The ${declared.algorithm} you specified did not match the calculated checksum.`);
    }
    computed.checksum = { algorithm: expected.algorithm, type: 'FULL_OBJECT', value };
  }
  computed.md5 = md5Bytes.toString('hex');
}

function numberHeader(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}
