import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { logErrorAnswer } from '../http/error-log.js';
import { toS3Error } from './error-handler.js';
import { signedUrlOf } from './root-listener.js';
import { errorElement, sendXml, XML_DECLARATION, xmlElement } from './xml.js';

/** A finished operation's answer: the root element and content of its XML document. */
export interface XmlAnswer {
  readonly root: string;
  readonly body: Record<string, unknown>;
  /** Response headers of the answer: sent only when it comes before the keep-alive began (the headers are gone by then). */
  readonly headers?: Record<string, string> | undefined;
}

/**
 * Answers an operation that may run for minutes (a multipart completion streams every part into
 * a new blob) as S3 does. When it ends within `intervalMs`, the answer is the usual one: the
 * document, or the error with its status. Otherwise the 200 status and the XML declaration go out
 * at once, then a space every `intervalMs`, so that neither the client's read timeout nor a
 * proxy's ends a silent connection; then the document, or an `<Error>` document in that 200
 * answer, which S3 clients read as the error.
 */
export async function sendLongXml(request: FastifyRequest, reply: FastifyReply, work: Promise<XmlAnswer>, intervalMs: number) {
  const outcome = work.then(
    (answer) => ({ answer, error: undefined }),
    (error: Error) => ({ answer: undefined, error }),
  );
  let timer: NodeJS.Timeout | undefined;
  const early = await Promise.race([
    outcome,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), intervalMs);
    }),
  ]);
  clearTimeout(timer);
  if (early) {
    if (early.error) throw early.error;
    if (early.answer.headers) reply.headers(early.answer.headers);
    return sendXml(reply, early.answer.root, early.answer.body);
  }

  const body = new PassThrough();
  // A client gone away destroys the stream; the operation still finishes, unheard.
  body.on('error', () => {});
  const send = (text: string) => {
    if (!body.destroyed) body.write(text);
  };
  send(XML_DECLARATION);
  const keepAlive = setInterval(() => send(' '), intervalMs).unref();
  // A connection closed early (the client left, or shutdown) needs no more spaces.
  reply.raw.once('close', () => clearInterval(keepAlive));
  void outcome.then(({ answer, error }) => {
    clearInterval(keepAlive);
    if (error) {
      const s3 = toS3Error(error);
      logErrorAnswer(request.log, error, s3, 'S3 request failed after its answer began');
      send(errorElement(s3, signedUrlOf(request.raw).split('?')[0] ?? '', request.id));
    } else if (answer) send(xmlElement(answer.root, answer.body));
    body.end();
  });
  return reply.code(200).type('application/xml').send(body);
}
