// Guards the choice of host for the URLs the server hands out without a public URL
// (src/http/host-names.ts): a Host header is kept only when it names the listener the request
// came on, for every form of address a connection can have (IPv6, IPv4-mapped, wildcards).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Listener, listensBeyondLoopback, parseHostAndPort, trustedHost } from '../src/http/host-names.js';

const listener = (fields: Partial<Listener> = {}): Listener => ({
  host: '0.0.0.0',
  address: '10.0.0.5',
  port: 8787,
  allowedHosts: [],
  ...fields,
});

describe('trusted host of a request', () => {
  test('no Host, or one that is not host[:port], gets the address the request arrived on', () => {
    for (const host of [undefined, '', 'evil.example@10.0.0.5', '10.0.0.5:8787/x', 'a b', '10.0.0.5:99999', '-x.example']) {
      assert.equal(trustedHost(host, listener()), '10.0.0.5:8787', String(host));
    }
  });

  test('the wildcard the server listens on is no name for it', () => {
    assert.equal(trustedHost('0.0.0.0:8787', listener()), '10.0.0.5:8787');
    assert.equal(trustedHost('[::]:8787', listener({ host: '::', address: '::1' })), '[::1]:8787');
  });

  test('IPv6 and IPv4-mapped addresses are written as a URL writes them', () => {
    assert.equal(trustedHost('evil.example', listener({ host: '::', address: '::ffff:10.0.0.5' })), '10.0.0.5:8787');
    assert.equal(trustedHost('evil.example', listener({ host: '::', address: 'fe80::1%eth0' })), '[fe80::1]:8787');
    assert.equal(trustedHost('[FE80::1]:8787', listener({ host: '::', address: 'fe80::1%eth0' })), '[fe80::1]:8787');
  });

  test('loopback names only for a loopback connection, and only on its port', () => {
    const loopback = listener({ address: '::ffff:127.0.0.1' });
    assert.equal(trustedHost('localhost:8787', loopback), 'localhost:8787');
    assert.equal(trustedHost('[::1]:8787', loopback), '[::1]:8787');
    assert.equal(trustedHost('localhost:9999', loopback), '127.0.0.1:8787');
    assert.equal(trustedHost('localhost:8787', listener()), '10.0.0.5:8787');
  });

  test('the host the server listens on, by name, on its port; no port is port 80', () => {
    assert.equal(trustedHost('storage.lan:8787', listener({ host: 'storage.lan' })), 'storage.lan:8787');
    assert.equal(trustedHost('storage.lan', listener({ host: 'storage.lan' })), '10.0.0.5:8787');
    assert.equal(trustedHost('storage.lan', listener({ host: 'storage.lan', port: 80 })), 'storage.lan');
  });

  test('allowed hosts: a name on any port, name:port on that port only', () => {
    const allowedHosts = ['nas.local', 'files.test:8080'].map((entry) => parseHostAndPort(entry) ?? assert.fail(entry));
    assert.equal(trustedHost('NAS.local:1', listener({ allowedHosts })), 'nas.local:1');
    assert.equal(trustedHost('files.test:8080', listener({ allowedHosts })), 'files.test:8080');
    assert.equal(trustedHost('files.test', listener({ allowedHosts })), '10.0.0.5:8787');
  });

  test('listening beyond loopback: a wildcard or another address, not 127/8, ::1 or localhost', () => {
    assert.deepEqual(
      ['0.0.0.0', '::', '10.0.0.5', 'storage.lan', '127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(listensBeyondLoopback),
      [true, true, true, true, false, false, false, false],
    );
  });
});
