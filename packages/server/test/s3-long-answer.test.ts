// Guards how an S3 operation that may run for minutes is answered (s3/long-answer.ts), on a small
// real Fastify server over real sockets: the usual answer when it ends within the interval;
// otherwise 200 at once, spaces while it runs, then its document or an S3 <Error> document. The
// test decides when each operation ends, so which path is taken never depends on timing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { fail } from '../src/errors.js';
import { handleS3Error } from '../src/s3/error-handler.js';
import { s3Errors } from '../src/s3/errors.js';
import { sendLongXml, type XmlAnswer } from '../src/s3/long-answer.js';

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const RESULT: XmlAnswer = { root: 'CompleteMultipartUploadResult', body: { Key: 'k', ETag: '"abc-2"' } };

/** An operation the test ends: `resolve` or `reject` settles what the route waits for. */
interface Pending {
  promise: Promise<XmlAnswer>;
  resolve: (answer: XmlAnswer) => void;
  reject: (error: Error) => void;
}

describe('S3 answers of long operations', () => {
  let app: FastifyInstance;
  let origin: string;
  const pending = new Map<string, Pending>();
  const operation = (id: string): Pending => {
    const existing = pending.get(id);
    if (existing) return existing;
    let resolve: Pending['resolve'] = () => {};
    let reject: Pending['reject'] = () => {};
    const promise = new Promise<XmlAnswer>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    const created = { promise, resolve, reject };
    pending.set(id, created);
    return created;
  };

  before(async () => {
    app = Fastify();
    app.setErrorHandler(handleS3Error);
    app.post<{ Params: { id: string }; Querystring: { interval: string } }>('/op/:id', (request, reply) =>
      sendLongXml(request, reply, operation(request.params.id).promise, Number(request.query.interval)),
    );
    origin = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
  });

  test('an operation that ends within the interval is answered as usual: its document with a length', async () => {
    operation('quick').resolve(RESULT);
    const answer = await fetch(`${origin}/op/quick?interval=10000`, { method: 'POST' });
    const text = await answer.text();
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-length'), String(Buffer.byteLength(text)));
    assert.match(text, /^<\?xml[^>]*>\n<CompleteMultipartUploadResult xmlns="[^"]+"><Key>k<\/Key><ETag>&quot;abc-2&quot;<\/ETag>/);
  });

  test('one that fails within the interval gets its own status and error document', async () => {
    const refused = operation('refused');
    refused.promise.catch(() => {}); // handled by the route once the request comes
    refused.reject(s3Errors.invalidPart());
    const answer = await fetch(`${origin}/op/refused?interval=10000`, { method: 'POST' });
    assert.equal(answer.status, 400);
    assert.match(await answer.text(), /<Error><Code>InvalidPart<\/Code>/);
  });

  test('one still running after the interval: 200 and the declaration at once, spaces, then the document', async () => {
    const slow = operation('slow');
    const answer = await fetch(`${origin}/op/slow?interval=5`, { method: 'POST' });
    // The status and headers arrived while the operation still runs.
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get('content-length'), null);
    await new Promise((resolve) => setTimeout(resolve, 50));
    slow.resolve(RESULT);
    const text = await answer.text();
    const shape =
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n( +)<CompleteMultipartUploadResult[^>]*>.*<\/CompleteMultipartUploadResult>$/s.exec(text);
    // ( +): at least one space went out while it ran.
    assert.ok(shape, JSON.stringify(text));
  });

  test('one that fails after the answer began ends it with an S3 <Error> document, a storage error mapped to its S3 code', async () => {
    const failing = operation('late-failure');
    const answer = await fetch(`${origin}/op/late-failure?interval=5`, { method: 'POST' });
    assert.equal(answer.status, 200);
    failing.reject(fail('QuotaExceeded', 'Storing 7340032 more bytes would take alice past its quota'));
    const text = await answer.text();
    assert.ok(text.startsWith(DECLARATION), text);
    assert.match(
      text,
      /^<\?xml[^>]*>\n *<Error><Code>QuotaExceeded<\/Code><Message>Storing 7340032 more bytes[^<]*<\/Message><Resource>\/op\/late-failure<\/Resource>/,
    );
  });

  test('a client that goes away while it runs does not stop the server; the operation ends unheard', async () => {
    const abandoned = operation('abandoned');
    const controller = new AbortController();
    const answer = await fetch(`${origin}/op/abandoned?interval=5`, { method: 'POST', signal: controller.signal });
    assert.equal(answer.status, 200);
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 30));
    abandoned.resolve(RESULT);
    operation('after').resolve(RESULT);
    const next = await fetch(`${origin}/op/after?interval=10000`, { method: 'POST' });
    assert.equal(next.status, 200);
    assert.match(await next.text(), /<CompleteMultipartUploadResult/);
  });
});
