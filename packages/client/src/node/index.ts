/**
 * stowage-client on Node (`stowage-client/node`, and `stowage-client` under Node): the universal
 * client over undici (or fetch), with Buffers, Node streams, the token file and files by path.
 *
 * @example
 * import { Storage } from 'stowage-client';
 * const storage = new Storage({ url: 'http://127.0.0.1:8787/storage/v1' });
 * await storage.set('hello.txt', 'hi');
 * await storage.buckets.create('team-results');
 * await storage.set('q1/summary.csv', 'a,b', 'team-results');
 *
 * @module
 */
// Everything of the universal entry, with the Node versions of Auth and Storage in their place
// (a module's own exports take precedence over the names `export *` brings).
export * from '../index.js';
export { Auth, writeTokenFile } from './auth.js';
export { type NodeHttpTransportName, nodeHttpTransport } from './http.js';
export { Storage, type StorageOptions } from './storage.js';
