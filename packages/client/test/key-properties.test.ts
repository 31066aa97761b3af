// Property tests of key encoding end to end: any legal key (1..1024 UTF-8 bytes, no control
// characters; `?#+;%/. ..` and astral characters included) set through the client on a real
// server comes back exactly, through get, exists, info and list; any illegal key is refused by
// the client with BadRequestError InvalidKey before a request leaves it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { Auth, BadRequestError, Retry, Storage } from '../src/node/index.js';
import { startFaultServer } from './fault-server.js';
import { DOT_KEYS, overFetch } from './http-transport-choice.js';

const MAX_KEY_BYTES = 1024;
const RUNS = 200;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what makes a key illegal
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/gu;

const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');

/** Drops trailing code points until the text fits in `limit` UTF-8 bytes (never splits one). */
function fitBytes(text: string, limit = MAX_KEY_BYTES): string {
  let out = '';
  for (const char of text) {
    if (utf8Length(out) + utf8Length(char) > limit) break;
    out += char;
  }
  return out;
}

/** Characters URL parsers, query strings and path normalizers treat specially. */
const awkward = fc.constantFrom('?', '#', '+', ';', '%', '%2F', '%25', '/', '//', '.', '..', '/../', ' ', '&', '=', '\\', '~');
const astral = fc.constantFrom('🚀', '𝄞', '𠜎', '👩‍👩‍👧');
const anyText = fc.string({ unit: 'binary', maxLength: 12 }).map((text) => text.replace(CONTROL, ''));

/** Legal keys: mixtures of the above, some stretched to exactly the byte limit. */
const legalKey = fc
  .tuple(fc.array(fc.oneof(awkward, astral, anyText), { minLength: 1, maxLength: 16 }), fc.boolean())
  .map(([pieces, fillToLimit]) => {
    const key = fitBytes(pieces.join(''));
    return fillToLimit ? key + 'k'.repeat(MAX_KEY_BYTES - utf8Length(key)) : key;
  })
  .filter((key) => key.length > 0)
  // fetch refuses `.` and `..` (UnsendablePath, see storage.test.ts): URL parsing drops them.
  .filter((key) => !(overFetch && DOT_KEYS.has(key)));

/** Illegal keys, each with the words the refusal must contain. */
const illegalKey: fc.Arbitrary<{ key: string; reason: RegExp }> = fc.oneof(
  fc.constant({ key: '', reason: /empty/ }),
  fc
    .tuple(
      legalKey,
      fc.integer({ min: 0, max: 0x9f }).filter((c) => c < 0x20 || c >= 0x7f),
      fc.nat(),
    )
    .map(([key, code, at]) => ({ key: insertAt(fitBytes(key, MAX_KEY_BYTES - 2), String.fromCharCode(code), at), reason: /control/ })),
  fc
    .tuple(legalKey, fc.integer({ min: 0xd800, max: 0xdfff }), fc.nat())
    .map(([key, code, at]) => ({ key: insertAt(fitBytes(key, MAX_KEY_BYTES - 3), String.fromCharCode(code), at), reason: /surrogate/ })),
  fc.tuple(legalKey, fc.oneof(fc.constant('x'), astral)).map(([key, extra]) => ({
    key: key + extra.repeat(Math.ceil((MAX_KEY_BYTES + 1 - utf8Length(key)) / utf8Length(extra))),
    reason: /1024/,
  })),
);

/** Inserts `piece` between two code points (never inside a surrogate pair). */
function insertAt(text: string, piece: string, at: number): string {
  const chars = [...text];
  const index = at % (chars.length + 1);
  return [...chars.slice(0, index), piece, ...chars.slice(index)].join('');
}

describe('keys through client and server (property-based)', () => {
  let ts: TestServer;
  let storage: Storage;
  before(async () => {
    ts = await startTestServer();
    storage = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token('keys'), env: {} }), retries: Retry.none() });
  });
  after(async () => {
    await storage.close();
    await ts.close();
  });

  test('the generators make what they claim', () => {
    for (const key of fc.sample(legalKey, 500)) {
      assert.ok(
        key.length > 0 && utf8Length(key) <= MAX_KEY_BYTES && key.isWellFormed() && !new RegExp(CONTROL.source, 'u').test(key),
        key,
      );
    }
    assert.ok(
      fc.sample(legalKey, 500).some((key) => utf8Length(key) === MAX_KEY_BYTES),
      'keys at the limit are generated',
    );
  });

  test('a legal key set through the client is read back exactly by get, exists, info and list', async () => {
    await fc.assert(
      fc.asyncProperty(legalKey, fc.uint8Array({ maxLength: 64 }), async (key, value) => {
        try {
          const result = await storage.set(key, value);
          assert.equal(result.key, key);
          assert.deepEqual(new Uint8Array(await storage.getBytes(key)), value);
          assert.equal(await storage.exists(key), true);
          assert.equal((await storage.info(key)).size, value.length);
          assert.deepEqual(await storage.list(key), [key]);
        } finally {
          await storage.delete(key).catch(() => {});
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('an illegal key is refused by the client with the reason, and no request is sent', async () => {
    const server = await startFaultServer((_request, response) => response.end('should not be asked'));
    const offline = new Storage({ url: server.url, auth: new Auth({ token: 'unused', env: {} }), retries: Retry.none() });
    try {
      await fc.assert(
        fc.asyncProperty(illegalKey, async ({ key, reason }) => {
          for (const call of [
            () => offline.get(key),
            () => offline.set(key, 'v'),
            () => offline.exists(key),
            () => offline.delete(key),
            () => offline.getSignedUrl(key),
          ]) {
            await assert.rejects(call(), (error: unknown) => {
              assert.ok(error instanceof BadRequestError, String(error));
              assert.equal(error.code, 'InvalidKey');
              assert.match(error.message, reason);
              return true;
            });
          }
        }),
        { numRuns: RUNS },
      );
      assert.equal(server.seen.length, 0);
    } finally {
      await offline.close();
      await server.close();
    }
  });
});
