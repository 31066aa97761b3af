// Guards the sealing of API key secrets (AES-256-GCM): a sealed secret opens only with its own
// server secret, client id and whole authentication tag; a truncated tag is refused, since GCM
// would otherwise accept any prefix of the right tag (4 bytes: one forgery in 2^32 tries).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SecretSealer } from '../src/auth/secret-sealer.js';

const sealer = new SecretSealer(randomBytes(32));

test('a sealed secret opens for its client id only, and not under another server secret', () => {
  const sealed = sealer.seal('stw_alice', 'the secret');
  assert.equal(sealer.open('stw_alice', sealed), 'the secret');
  assert.equal(sealer.open('stw_bob', sealed), undefined);
  assert.equal(new SecretSealer(randomBytes(32)).open('stw_alice', sealed), undefined);
});

test('a sealed secret whose tag is cut short, or changed, does not open', () => {
  const sealed = sealer.seal('stw_alice', 'the secret');
  const [version, nonce, data, tag] = sealed.split('.') as [string, string, string, string];
  const fullTag = Buffer.from(tag, 'base64url');
  assert.equal(fullTag.length, 16);
  for (const length of [4, 8, 12, 15]) {
    const short = [version, nonce, data, fullTag.subarray(0, length).toString('base64url')].join('.');
    assert.equal(sealer.open('stw_alice', short), undefined, `a ${length}-byte tag`);
  }
  const flipped = Buffer.from(fullTag);
  flipped[0] = (flipped[0] ?? 0) ^ 1;
  assert.equal(sealer.open('stw_alice', [version, nonce, data, flipped.toString('base64url')].join('.')), undefined);
});
