import type { IncomingMessage } from 'node:http';
import { Busboy, type BusboyHeaders, type BusboyInstance } from '@fastify/busboy';
import { S3Error, s3Errors } from './errors.js';

/**
 * Bounds on what a form holds before its file, which is read before anyone is authenticated (the
 * credentials are among the fields): S3's 20 KiB for the policy or any field, 64 KiB in all.
 */
const MAX_FIELD_BYTES = 20 * 1024;
const MAX_PRE_FILE_BYTES = 64 * 1024;
const MAX_FIELDS = 100;

/** A POST Object form read up to its file, whose bytes are still to come. */
export interface PostForm {
  /** The fields before the file, by lowercase name. */
  readonly fields: ReadonlyMap<string, string>;
  /** The `file` part: its bytes as they arrive (an error if the body ends inside it), and the file name the browser sent (no path). */
  readonly file: AsyncIterable<Buffer>;
  readonly filename: string;
  /** Settles once the whole body has been read: fields after the file are ignored, as S3 ignores them. */
  readonly finished: Promise<void>;
}

export const malformedPostRequest = () =>
  new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');

/**
 * Reads a multipart/form-data body (busboy) up to its `file` part, and answers the fields before
 * it and the file as a stream: the file is never held whole. A field too large, repeated, or a form
 * without a file is refused.
 */
export function readPostForm(request: IncomingMessage): Promise<PostForm> {
  return new Promise((resolve, reject) => {
    let parser: BusboyInstance;
    try {
      parser = Busboy({
        headers: request.headers as BusboyHeaders,
        limits: { fieldSize: MAX_FIELD_BYTES, fields: MAX_FIELDS, files: 1 },
        isPartAFile: (name) => name === 'file',
      });
    } catch {
      reject(malformedPostRequest());
      return;
    }
    const fields = new Map<string, string>();
    let gotFile = false;
    let fieldBytes = 0;
    const fail = (error: S3Error) => {
      request.unpipe(parser);
      reject(error);
    };
    const finished = new Promise<void>((done, failed) => {
      parser.on('finish', done);
      parser.on('error', () => failed(malformedPostRequest()));
    });
    // Read only once the file is taken: until then a parse error is reported by reject().
    finished.catch(() => {});
    parser.on('field', (name, value, nameTruncated, valueTruncated) => {
      if (gotFile) return;
      const lower = name.toLowerCase();
      fieldBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (fieldBytes > MAX_PRE_FILE_BYTES)
        fail(new S3Error('MaxPostPreDataLengthExceededError', 'Your POST request fields preceding the upload file were too large.'));
      else if (nameTruncated || valueTruncated)
        fail(s3Errors.invalidArgument(`The form field ${name} is larger than ${MAX_FIELD_BYTES} bytes`));
      else if (fields.has(lower)) fail(s3Errors.invalidArgument(`The form field ${name} appears more than once`));
      else fields.set(lower, value);
    });
    parser.on('file', (_name, stream, filename) => {
      gotFile = true;
      // A body that ends inside the file errors the part, then ends it. The error is kept: it may
      // come before anyone reads the file (or when none will, the form being refused), and a reader
      // that only saw the end would take the truncated file for the whole.
      let partError: Error | undefined;
      stream.on('error', (error) => {
        partError = error;
      });
      async function* file() {
        for await (const chunk of stream) yield chunk as Buffer;
        if (partError) throw partError;
      }
      resolve({ fields, file: file(), filename: filename ?? '', finished });
    });
    parser.on('fieldsLimit', () => fail(s3Errors.invalidArgument(`A POST form has at most ${MAX_FIELDS} fields`)));
    parser.on('finish', () => {
      if (!gotFile) reject(s3Errors.invalidArgument('POST requires exactly one file upload per request.'));
    });
    parser.on('error', () => reject(malformedPostRequest()));
    request.pipe(parser);
  });
}
