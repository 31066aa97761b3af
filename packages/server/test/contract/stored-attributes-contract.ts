// The attributes column as every version of the server reads and writes it. Servers of two
// versions share one index during a rolling upgrade: a row one wrote must read the same on the
// other. The indexes under test are opened with the domain's layout (ATTRIBUTE_LAYOUT), as the
// server opens them.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ObjectAttributes } from '../../src/backends/backend.js';
import { chosenOf, contentOf } from '../../src/storage/object-attributes.js';
import { blobRow, put, ref, T0 } from './index-fixtures.js';
import type { OpenedIndex } from './object-index-contract.js';

/**
 * The column of an object of a multipart upload with a COMPOSITE checksum, metadata and stored
 * headers, as the server wrote it before the engine kept the domain's fields in groups: every
 * field flat, in this order.
 */
export const STORED_ATTRIBUTES =
  '{"metadata":{"city":"Zürich"},"cacheControl":"max-age=60","contentDisposition":"attachment","parts":3,"partSize":5242880,' +
  '"s3Headers":{"content-language":"de-CH","expires":"Thu, 01 Jan 2037 00:00:00 GMT"},"s3Etag":"0123456789abcdef0123456789abcdef-3",' +
  '"s3UploadId":"fedcba9876543210fedcba9876543210","s3Checksum":{"algorithm":"CRC32","type":"COMPOSITE","value":"q1Nnbw==-3","parts":"AAAAAAAAAAAAAAAA"}}';

const CHECKSUM = { algorithm: 'CRC32', type: 'COMPOSITE', value: 'q1Nnbw==-3', parts: 'AAAAAAAAAAAAAAAA' };

const EXPECTED: ObjectAttributes = {
  metadata: { city: 'Zürich' },
  cacheControl: 'max-age=60',
  contentDisposition: 'attachment',
  chosen: { s3Headers: { 'content-language': 'de-CH', expires: 'Thu, 01 Jan 2037 00:00:00 GMT' } },
  content: {
    parts: 3,
    partSize: 5242880,
    s3Etag: '0123456789abcdef0123456789abcdef-3',
    s3UploadId: 'fedcba9876543210fedcba9876543210',
    s3Checksum: CHECKSUM,
  },
};

export function storedAttributesContract(fresh: () => Promise<OpenedIndex>): void {
  it('a column in the stored format reads back with its ETag, checksum, parts and headers, each in its group', async () => {
    const { index, attributesColumn } = await fresh();
    await put(index, ref('old'), blobRow(15 * 1024 * 1024));
    await attributesColumn.write(ref('old'), STORED_ATTRIBUTES);
    const found = await index.find({ ref: ref('old'), now: T0 });
    assert.deepEqual(found?.attributes, EXPECTED);
    const content = contentOf(found?.attributes);
    assert.equal(content.s3Etag, '0123456789abcdef0123456789abcdef-3');
    assert.deepEqual(content.s3Checksum, CHECKSUM);
    assert.deepEqual([content.parts, content.partSize], [3, 5242880]);
    assert.equal(chosenOf(found?.attributes).s3Headers?.['content-language'], 'de-CH');
  });

  it('what is written is stored in the same format, every field flat under its name (older servers read it)', async () => {
    const { index, attributesColumn } = await fresh();
    await put(index, ref('new'), blobRow(10, { attributes: EXPECTED }));
    const column = await attributesColumn.read(ref('new'));
    assert.deepEqual(JSON.parse(column ?? 'null'), JSON.parse(STORED_ATTRIBUTES));
    // Attributes without the domain's fields: the three common fields alone, as before.
    await put(index, ref('plain'), blobRow(10, { attributes: { metadata: { a: 'b' }, cacheControl: null, contentDisposition: null } }));
    assert.equal(await attributesColumn.read(ref('plain')), '{"metadata":{"a":"b"},"cacheControl":null,"contentDisposition":null}');
    await put(index, ref('none'), blobRow(10, { attributes: null }));
    assert.equal(await attributesColumn.read(ref('none')), null);
  });

  it('a copy that replaces the attributes of an old row keeps what describes the bytes, stored flat', async () => {
    const { index, attributesColumn } = await fresh();
    await put(index, ref('src'), blobRow(15 * 1024 * 1024));
    await attributesColumn.write(ref('src'), STORED_ATTRIBUTES);
    const replacement = { metadata: { fresh: 'yes' }, cacheControl: null, contentDisposition: null };
    await index.transfer({
      from: ref('src'),
      to: ref('dst'),
      move: false,
      overwrite: true,
      condition: undefined,
      now: T0,
      lastModified: T0,
      expiresAtIfNone: null,
      collectAfter: T0,
      replace: { contentType: 'text/plain', attributes: replacement },
    });
    const { chosen: _replaced, ...kept } = EXPECTED;
    assert.deepEqual((await index.find({ ref: ref('dst'), now: T0 }))?.attributes, { ...kept, ...replacement });
    const { metadata: _m, cacheControl: _c, contentDisposition: _d, s3Headers: _h, ...described } = JSON.parse(STORED_ATTRIBUTES);
    assert.deepEqual(JSON.parse((await attributesColumn.read(ref('dst'))) ?? 'null'), { ...replacement, ...described });
  });
}
