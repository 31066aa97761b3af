import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { bodyFromValue } from '../bodies.js';
import type { HttpTransportFactory } from '../http-transport.js';
import { attributeHeaders } from '../object-attributes.js';
import { Routes } from '../protocol.js';
import {
  Storage as CoreStorage,
  type StorageOptions as CoreStorageOptions,
  conditionHeaders,
  normalize,
  type SetResult,
  type TypeOrOptions,
} from '../storage.js';
import { Auth } from './auth.js';
import { bodyFromFile } from './file-bodies.js';
import { type NodeHttpTransportName, nodeHttpTransport } from './http.js';
import { nodeSha256 } from './node-sha256.js';
import { downloadFileResumable } from './resumable-download.js';
import { uploadFileResumable } from './resumable-upload.js';

export interface StorageOptions extends Omit<CoreStorageOptions, 'transport'> {
  /** The HTTP stack: `'undici'` (default), `'fetch'`, or a factory. Default `STOWAGE_HTTP_TRANSPORT`, else undici. */
  transport?: NodeHttpTransportName | HttpTransportFactory;
}

/**
 * The client on Node: everything the universal {@link CoreStorage} does over undici (or fetch),
 * with Buffers and Node streams, credentials from the environment and the token file, and files
 * by path (`setFile`, `getFile`), which resume after dropped connections.
 *
 * @example
 * const storage = new Storage();            // STOWAGE_URL + STOWAGE_TOKEN from the environment
 * await storage.setFile('scans/big.tif', '/data/big.tif', { onProgress: (n, total) => console.log(n, total) });
 */
export class Storage extends CoreStorage<Readable> {
  constructor(options: StorageOptions = {}) {
    const { transport, ...rest } = options;
    const url = options.url ?? process.env.STOWAGE_URL ?? process.env.DESCARTESLABS_STORAGE_URL;
    const auth = options.anonymous ? options.auth : (options.auth ?? new Auth());
    const http = nodeHttpTransport(transport);
    super({ ...rest, url, auth, transport: http }, { http, sha256: nodeSha256 });
  }

  /** The value at `key` as a Buffer. @throws {NotFoundError} */
  override async getBytes(key: string, options?: TypeOrOptions): Promise<Buffer> {
    const bytes = await super.getBytes(key, options);
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  protected override toDownloadStream(chunks: AsyncIterable<Uint8Array>): Readable {
    return Readable.from(chunks, { objectMode: false, highWaterMark: 256 * 1024 });
  }

  /**
   * Downloads the value at `key` into a file or a writable stream. A path is written through a
   * temp file in the same folder and renamed at the end, so a failed download never leaves a
   * truncated file there.
   */
  async getFile(key: string, destination: string | Writable, options?: TypeOrOptions): Promise<void> {
    const call = normalize(options);
    const url = this.objectPath(Routes.get, key, call);
    if (typeof destination !== 'string') {
      await this.transport.send({ method: 'GET', url, signal: call.signal }, (response) =>
        pipeline(this.guardedDownload(response, key, call), destination),
      );
      return;
    }
    const temp = path.join(path.dirname(destination), `.${path.basename(destination)}.${randomBytes(6).toString('hex')}.part`);
    try {
      await downloadFileResumable(this.transport, url, temp, {
        signal: call.signal,
        onProgress: call.onProgress,
      });
      await rename(temp, destination);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /**
   * Uploads a file or a readable stream to `key`. A file by path is retried safely; from 8 MiB
   * (`resumableThreshold`) it goes up in resumable chunks that survive dropped connections, and
   * its sha256 is verified by the server before the value appears. A stream is sent once.
   */
  async setFile(key: string, source: string | Readable, options?: TypeOrOptions): Promise<SetResult> {
    const call = normalize(options);
    if (typeof source !== 'string') return this.upload(key, bodyFromValue(source), call);
    const body = await bodyFromFile(source);
    if ((body.length ?? 0) < this.resumableThreshold) return this.upload(key, body, call);
    const completionHeaders = attributeHeaders(call);
    const uploadUrl = await this.getUploadUrl(key, { ...call, expiresIn: undefined });
    return (await uploadFileResumable(this.transport, uploadUrl, source, body.length ?? 0, {
      chunkSize: this.chosenChunkSize,
      headers: conditionHeaders(call),
      completionHeaders,
      signal: call.signal,
      onProgress: call.onProgress,
    })) as SetResult;
  }
}
