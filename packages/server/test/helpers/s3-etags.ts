// The ETags docs/s3.md promises, computed the way S3 clients compute them to check an upload.
import { createHash } from 'node:crypto';

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest();
const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The ETag of an object written by PutObject (or a part by UploadPart): its MD5, quoted. */
export const etagOf = (data: Buffer | string) => `"${md5(data).toString('hex')}"`;

/** The ETag of an object written through storage API v1, on either API: its sha256, quoted. */
export const v1EtagOf = (data: Buffer | string) => `"${sha256Hex(data)}"`;

/** S3's ETag of a multipart upload: the MD5 of its parts' binary MD5s, then `-` and their count. */
export const multipartEtagOf = (parts: ReadonlyArray<Buffer | string>) =>
  `"${md5(Buffer.concat(parts.map((part) => md5(part)))).toString('hex')}-${parts.length}"`;

/** `data` cut into parts of `partSize` bytes (the last one shorter), as multipart uploaders cut it. */
export function partsOf(data: Buffer, partSize: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += partSize) parts.push(data.subarray(at, at + partSize));
  return parts;
}
