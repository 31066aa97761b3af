import { type ChecksumAlgorithm, checksumHeader, decodeValue, parseAlgorithm } from './checksums.js';
import { s3Errors } from './errors.js';
import { single } from './header-value.js';

/** Headers named x-amz-checksum-* that carry no checksum value. */
const NOT_VALUES = new Set(['x-amz-checksum-mode', 'x-amz-checksum-type', 'x-amz-checksum-algorithm']);

/** The checksum a write declares: its algorithm, and its value unless it comes as a trailer. */
export interface DeclaredChecksum {
  readonly algorithm: ChecksumAlgorithm;
  /** Base64, from a header or a presigned URL's query; undefined when it is a trailer. */
  readonly value: string | undefined;
  readonly trailer: boolean;
}

/**
 * The one checksum a write's headers (and a presigned URL's query, merged into them) declare, as
 * S3 reads them: an `x-amz-checksum-ALGORITHM` value or a trailer announced by `x-amz-trailer`,
 * at most one of them, and an `x-amz-sdk-checksum-algorithm` that names the same algorithm. Each
 * mistake is S3's InvalidRequest, before any byte is read.
 */
export function declaredChecksum(headers: Readonly<Record<string, string | string[] | undefined>>): DeclaredChecksum | undefined {
  const found: DeclaredChecksum[] = [];
  for (const [name, raw] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-checksum-') || NOT_VALUES.has(name) || raw === undefined) continue;
    const algorithm = parseAlgorithm(name.slice('x-amz-checksum-'.length));
    const value = String(single(raw)).trim();
    decodeValue(algorithm, value);
    found.push({ algorithm, value, trailer: false });
  }
  for (const name of listOf(headers['x-amz-trailer'])) {
    if (!name.startsWith('x-amz-checksum-')) continue;
    found.push({ algorithm: parseAlgorithm(name.slice('x-amz-checksum-'.length)), value: undefined, trailer: true });
  }
  if (found.length > 1)
    throw s3Errors.invalidRequest('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const [declared] = found;
  const named = headers['x-amz-sdk-checksum-algorithm'];
  if (named !== undefined) {
    const algorithm = parseAlgorithm(String(single(named)));
    if (!declared)
      throw s3Errors.invalidRequest(
        'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
      );
    if (declared.algorithm !== algorithm)
      throw s3Errors.invalidRequest(
        `Value for x-amz-sdk-checksum-algorithm header is invalid: it names ${algorithm}, the request carries ${checksumHeader(declared.algorithm)}.`,
      );
  }
  return declared;
}

function listOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}
