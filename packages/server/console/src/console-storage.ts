import { type BucketName, Storage } from 'stowage-client';

/** The start of a value and how large the whole value is. */
export interface StartOfValue {
  bytes: Uint8Array;
  /** The whole value's size in bytes. */
  size: number;
}

/** The client library's Storage, plus the range read the console's previews need. */
export class ConsoleStorage extends Storage {
  /** The first `length` bytes of the value at `key` (one range request; all of it when it is shorter). */
  async readStart(key: string, type: BucketName, length: number): Promise<StartOfValue> {
    const url = this.objectPath('get', key, { storageType: type });
    return this.transport.send({ method: 'GET', url, headers: { range: `bytes=0-${length - 1}` } }, async (response) => {
      const bytes = await response.body.bytes();
      // 206 names the whole size in Content-Range ("bytes 0-N/SIZE"); 200 sends the whole value.
      const range = response.headers['content-range'];
      const total = typeof range === 'string' ? Number(range.split('/')[1]) : Number.NaN;
      return { bytes, size: Number.isFinite(total) ? total : bytes.length };
    });
  }
}
