// Guards the S3 signature checks against AWS's own published examples (the SigV4 documentation's
// "examplebucket" requests): a header-signed GET, a presigned URL, and a chunked upload whose
// every chunk signature is checked; and that changing one byte, the date or the secret fails.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { decodeAwsChunked } from '../src/s3/aws-chunked.js';
import { assertFresh, parseClaims, type RequestToVerify, signatureMatches, signingKey } from '../src/s3/sigv4.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SIGNED_AT = Date.UTC(2013, 4, 24);
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function verify(request: RequestToVerify, secret = SECRET): boolean {
  const claims = parseClaims(request);
  assert.ok(claims);
  return signatureMatches(request, claims, signingKey(secret, claims));
}

describe('SigV4 against the AWS documentation examples', () => {
  const getObject: RequestToVerify = {
    method: 'GET',
    rawPath: '/test.txt',
    rawQuery: '',
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY,
      'x-amz-date': '20130524T000000Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    },
  };

  test('a header-signed GetObject verifies; another range, path or secret does not', () => {
    assert.equal(verify(getObject), true);
    assert.equal(verify({ ...getObject, headers: { ...getObject.headers, range: 'bytes=0-10' } }), false);
    assert.equal(verify({ ...getObject, rawPath: '/test.txu' }), false);
    assert.equal(verify(getObject, `${SECRET}x`), false);
    const claims = parseClaims(getObject);
    assert.ok(claims);
    assert.doesNotThrow(() => assertFresh(claims, new URLSearchParams(), SIGNED_AT + 14 * 60_000));
    assert.throws(() => assertFresh(claims, new URLSearchParams(), SIGNED_AT + 16 * 60_000), { code: 'RequestTimeTooSkewed' });
  });

  test('a presigned URL verifies until it expires', () => {
    const rawQuery =
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
    const presigned: RequestToVerify = {
      method: 'GET',
      rawPath: '/test.txt',
      rawQuery,
      headers: { host: 'examplebucket.s3.amazonaws.com' },
    };
    assert.equal(verify(presigned), true);
    assert.equal(verify({ ...presigned, rawQuery: rawQuery.replace('X-Amz-Expires=86400', 'X-Amz-Expires=86401') }), false);
    const claims = parseClaims(presigned);
    assert.ok(claims);
    const query = new URLSearchParams(rawQuery);
    assert.doesNotThrow(() => assertFresh(claims, query, SIGNED_AT + 86_399_000));
    assert.throws(() => assertFresh(claims, query, SIGNED_AT + 86_401_000), { code: 'AccessDenied', message: 'Request has expired' });
  });

  test('a chunked upload: the seed signature and each chunk signature, in order', async () => {
    const request: RequestToVerify = {
      method: 'PUT',
      rawPath: '/examplebucket/chunkObject.txt',
      rawQuery: '',
      headers: {
        host: 's3.amazonaws.com',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560',
        'content-length': '66824',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
      },
    };
    assert.equal(verify(request), true);
    const claims = parseClaims(request);
    assert.ok(claims);
    const signing = { claims, key: signingKey(SECRET, claims) };
    const body = (first: string) => [
      Buffer.from(`10000;chunk-signature=${first}\r\n`),
      Buffer.alloc(65536, 'a'),
      Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
      Buffer.alloc(1024, 'a'),
      Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
    ];
    const decode = async (pieces: Buffer[]) => {
      let bytes = 0;
      for await (const chunk of decodeAwsChunked(Readable.from(pieces), signing, new Map())) bytes += chunk.length;
      return bytes;
    };
    assert.equal(await decode(body('ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648')), 66560);
    await assert.rejects(decode(body('ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288649')), {
      code: 'SignatureDoesNotMatch',
    });
    const tampered = body('ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648');
    (tampered[1] as Buffer)[100] = 0x62;
    await assert.rejects(decode(tampered), { code: 'SignatureDoesNotMatch' }, 'a changed byte breaks its chunk signature');
  });
});
