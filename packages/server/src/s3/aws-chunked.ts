import { createHash } from 'node:crypto';
import { EMPTY_SHA256 } from 'stowage-client/protocol';
import { s3Errors } from './errors.js';
import { ALGORITHM, equalHex, hmac, type SignedClaims, scopeOf } from './sigv4.js';

/** The payload modes of `x-amz-content-sha256` that send the body in aws-chunked encoding. */
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

const MAX_LINE_BYTES = 4096;

export interface ChunkSigning {
  readonly claims: SignedClaims;
  readonly key: Buffer;
}

/**
 * Decodes an aws-chunked body (`hex-size[;chunk-signature=SIG]\r\n DATA \r\n … 0\r\n trailers \r\n`)
 * into its data. With `signing`, every chunk's signature is checked against the chain that starts
 * at the request's own signature (SignatureDoesNotMatch otherwise), and so is the trailer's; the
 * trailing headers (e.g. x-amz-checksum-crc32) are put in `trailers`.
 */
export async function* decodeAwsChunked(
  body: AsyncIterable<Buffer>,
  signing: ChunkSigning | undefined,
  trailers: Map<string, string>,
): AsyncGenerator<Buffer> {
  const reader = new ByteReader(body);
  let previous = signing?.claims.signature ?? '';
  for (;;) {
    const header = await reader.line();
    const [sizeText = '', ...extensions] = header.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw s3Errors.invalidRequest('Malformed aws-chunked encoding');
    const size = Number.parseInt(sizeText, 16);
    const data = size > 0 ? await reader.bytes(size) : [];
    if (signing) {
      const given = extensions.find((item) => item.startsWith('chunk-signature='))?.slice('chunk-signature='.length) ?? '';
      const toSign = [`${ALGORITHM}-PAYLOAD`, signing.claims.amzDate, scopeOf(signing.claims), previous, EMPTY_SHA256, sha256Of(data)].join(
        '\n',
      );
      if (!equalHex(hmac(signing.key, toSign).toString('hex'), given)) throw s3Errors.signatureMismatch();
      previous = given;
    }
    if (size === 0) break;
    if ((await reader.line()) !== '') throw s3Errors.invalidRequest('Malformed aws-chunked encoding');
    yield* data;
  }
  // Trailing headers, then an empty line (or the end of the body).
  const lines: string[] = [];
  for (;;) {
    const line = await reader.line(true);
    if (line === undefined || line === '') break;
    lines.push(line);
  }
  let trailerSignature: string | undefined;
  const signed: string[] = [];
  for (const line of lines) {
    const at = line.indexOf(':');
    if (at <= 0) throw s3Errors.invalidRequest('Malformed trailing header');
    const name = line.slice(0, at).trim().toLowerCase();
    const value = line.slice(at + 1).trim();
    if (name === 'x-amz-trailer-signature') trailerSignature = value;
    else {
      trailers.set(name, value);
      signed.push(`${name}:${value}\n`);
    }
  }
  if (signing && lines.length > 0) {
    const toSign = [
      `${ALGORITHM}-TRAILER`,
      signing.claims.amzDate,
      scopeOf(signing.claims),
      previous,
      createHash('sha256').update(signed.join('')).digest('hex'),
    ].join('\n');
    if (!trailerSignature || !equalHex(hmac(signing.key, toSign).toString('hex'), trailerSignature)) throw s3Errors.signatureMismatch();
  }
}

function sha256Of(pieces: Buffer[]): string {
  const hash = createHash('sha256');
  for (const piece of pieces) hash.update(piece);
  return hash.digest('hex');
}

/** Reads lines and exact byte counts from a stream of buffers, without copying the data. */
class ByteReader {
  private pieces: Buffer[] = [];
  private length = 0;
  private readonly source: AsyncIterator<Buffer>;
  private ended = false;

  constructor(body: AsyncIterable<Buffer>) {
    this.source = body[Symbol.asyncIterator]();
  }

  /** The next line without its CRLF; at the end of the body undefined when `optional`, else IncompleteBody. */
  async line(optional?: false): Promise<string>;
  async line(optional: true): Promise<string | undefined>;
  async line(optional = false): Promise<string | undefined> {
    for (;;) {
      // Lines are short: joining the pieces that hold one costs little.
      if (this.pieces.length > 1 && (this.pieces[0] as Buffer).indexOf('\r\n') < 0) this.pieces = [Buffer.concat(this.pieces)];
      const head = this.pieces[0];
      const at = head ? head.indexOf('\r\n') : -1;
      if (head && at >= 0) {
        const line = head.subarray(0, at).toString('latin1');
        this.take(at + 2);
        return line;
      }
      if (this.length > MAX_LINE_BYTES) throw s3Errors.invalidRequest('Malformed aws-chunked encoding');
      if (!(await this.fill())) {
        if (optional && this.length === 0) return undefined;
        throw s3Errors.incompleteBody();
      }
    }
  }

  /** Exactly `count` bytes, as the pieces they arrived in. */
  async bytes(count: number): Promise<Buffer[]> {
    while (this.length < count) if (!(await this.fill())) throw s3Errors.incompleteBody();
    return this.take(count);
  }

  private take(count: number): Buffer[] {
    const out: Buffer[] = [];
    let need = count;
    while (need > 0) {
      const piece = this.pieces[0] as Buffer;
      if (piece.length <= need) {
        out.push(piece);
        this.pieces.shift();
        need -= piece.length;
      } else {
        out.push(piece.subarray(0, need));
        this.pieces[0] = piece.subarray(need);
        need = 0;
      }
    }
    this.length -= count;
    return out;
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.source.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.pieces.push(next.value);
    this.length += next.value.length;
    return true;
  }
}
