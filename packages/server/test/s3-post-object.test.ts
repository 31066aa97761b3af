// Guards POST Object, the S3 API's browser form upload (s3/post-object.ts): a real HTML form in
// headless Chromium, its fields from a policy signed in the test (SigV4, and SigV2 by fetch),
// uploads a file that storage API v1 then reads, with the 201 PostResponse, the 303 redirect and
// `${filename}` in the key. And every way a form can fail its policy, each storing nothing: an
// expired policy, a key outside starts-with, a file outside content-length-range, a field no
// condition covers, a wrong signature, an unknown key, no signature at all.
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { browserSkip, collectPageErrors, launchBrowser, newPage } from './helpers/browser.js';
import { boto3Skip, s3Tools } from './helpers/s3-tools.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** S3's form variable for the file's name. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's spelling of the variable, not a template.
const FILENAME = '${filename}';

type Condition = Record<string, string> | Array<string | number>;

const hmac = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest();
const amzDateOf = (date: Date) =>
  date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/**
 * The fields of a form signed as S3 documents it: a base64 policy with the given conditions (and,
 * for SigV4, the x-amz-algorithm, -credential and -date conditions), and its signature.
 */
function signedFields(
  credentials: { clientId: string; secret: string },
  options: { conditions: Condition[]; fields: Record<string, string>; expiresInMs?: number; version?: 'v4' | 'v2' },
): Record<string, string> {
  const now = new Date();
  const expiration = new Date(now.getTime() + (options.expiresInMs ?? 300_000)).toISOString();
  if (options.version === 'v2') {
    const policy = Buffer.from(JSON.stringify({ expiration, conditions: options.conditions })).toString('base64');
    const signature = createHmac('sha1', credentials.secret).update(policy).digest('base64');
    return { ...options.fields, AWSAccessKeyId: credentials.clientId, policy, signature };
  }
  const amzDate = amzDateOf(now);
  const day = amzDate.slice(0, 8);
  const credential = `${credentials.clientId}/${day}/us-east-1/s3/aws4_request`;
  const v4Fields = { 'x-amz-algorithm': 'AWS4-HMAC-SHA256', 'x-amz-credential': credential, 'x-amz-date': amzDate };
  const conditions = [...options.conditions, ...Object.entries(v4Fields).map(([name, value]) => ({ [name]: value }))];
  const policy = Buffer.from(JSON.stringify({ expiration, conditions })).toString('base64');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secret}`, day), 'us-east-1'), 's3'), 'aws4_request');
  return { ...options.fields, ...v4Fields, policy, 'x-amz-signature': hmac(key, policy).toString('hex') };
}

/** A multipart/form-data body: the fields in order, then the file last, as browsers send a form. */
function formOf(fields: Record<string, string>, file: { name: string; content: Buffer | string; type?: string }): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', new Blob([file.content], { type: file.type ?? 'application/octet-stream' }), file.name);
  return form;
}

const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

describe('S3 POST Object (form uploads)', () => {
  let ts: TestServer;
  let api: ApiClient;
  let credentials: { clientId: string; secret: string };
  let action: string;

  before(async () => {
    ts = await startTestServer({ s3Port: 0 });
    credentials = await ts.server.createApiKey('alice');
    api = apiClient(ts.origin, await ts.token('alice'));
    action = `${ts.origin}/s3/data`;
  });
  after(async () => {
    await ts?.close();
  });

  describe('from a real HTML form in Chromium', { skip: browserSkip }, () => {
    let browser: Browser;
    before(async () => {
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
    });

    /** A page holding a form with the given hidden fields and a file input last. */
    const formPage = async (fields: Record<string, string>) => {
      const page = await newPage(browser);
      const errors = collectPageErrors(page, { ignore: [/favicon/] });
      const inputs = Object.entries(fields)
        .map(([name, value]) => `<input type="hidden" name="${name}" value="${value.replace(/"/g, '&quot;')}">`)
        .join('\n');
      await page.setContent(
        `<!doctype html><html lang="en"><head><title>upload</title></head><body><form action="${action}" method="post" enctype="multipart/form-data">${inputs}<input type="file" name="file" aria-label="file"><button type="submit">Upload</button></form></body></html>`,
      );
      return { page, errors };
    };

    test('uploads the chosen file; success_action_status 201 answers the PostResponse', async () => {
      const fields = signedFields(credentials, {
        conditions: [
          { bucket: 'data' },
          ['starts-with', '$key', 'uploads/'],
          ['eq', '$Content-Type', 'text/plain'],
          { success_action_status: '201' },
          ['starts-with', '$x-amz-meta-owner', ''],
        ],
        fields: { key: `uploads/${FILENAME}`, 'Content-Type': 'text/plain', success_action_status: '201', 'x-amz-meta-owner': 'alice' },
      });
      const { page } = await formPage(fields);
      await page.setInputFiles('input[type=file]', {
        name: 'notes.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('uploaded from a form'),
      });
      const [response] = await Promise.all([
        page.waitForResponse((answer) => answer.url() === action && answer.request().method() === 'POST'),
        page.click('button'),
      ]);
      assert.equal(response.status(), 201);
      const xml = await response.text();
      const etag = `"${createHash('md5').update('uploaded from a form').digest('hex')}"`;
      assert.match(xml, /<Bucket>data<\/Bucket>/);
      assert.match(xml, /<Key>uploads\/notes.txt<\/Key>/);
      assert.ok(xml.replaceAll('&quot;', '"').includes(`<ETag>${etag}</ETag>`), xml);
      assert.ok(xml.includes(`<Location>${ts.origin}/s3/data/uploads/notes.txt</Location>`), xml);
      const stored = await api.get('data', 'uploads/notes.txt');
      assert.equal(stored.status, 200);
      assert.equal(stored.text, 'uploaded from a form');
      assert.match(String(stored.headers['content-type']), /^text\/plain/);
      assert.equal(stored.headers['x-stowage-meta-owner'], 'alice');
    });

    test('success_action_redirect sends the browser on with bucket, key and etag', async () => {
      const redirect = `${ts.origin}/healthz`;
      const fields = signedFields(credentials, {
        conditions: [{ bucket: 'data' }, ['starts-with', '$key', 'redirected/'], { success_action_redirect: redirect }],
        fields: { key: `redirected/${FILENAME}`, success_action_redirect: redirect },
      });
      const { page, errors } = await formPage(fields);
      await page.setInputFiles('input[type=file]', {
        name: 'photo.bin',
        mimeType: 'application/octet-stream',
        buffer: Buffer.alloc(70_000, 7),
      });
      await Promise.all([page.waitForURL(/\/healthz\?/), page.click('button')]);
      const landed = new URL(page.url());
      assert.equal(landed.searchParams.get('bucket'), 'data');
      assert.equal(landed.searchParams.get('key'), 'redirected/photo.bin');
      assert.equal(landed.searchParams.get('etag'), `"${createHash('md5').update(Buffer.alloc(70_000, 7)).digest('hex')}"`);
      const stored = await api.get('data', 'redirected/photo.bin');
      assert.equal(stored.status, 200);
      assert.deepEqual(stored.body, Buffer.alloc(70_000, 7));
      assert.deepEqual(errors, []);
    });
  });

  test('a SigV2-signed form (AWSAccessKeyId, signature) uploads, answering 204 by default', async () => {
    const fields = signedFields(credentials, {
      version: 'v2',
      conditions: [{ bucket: 'data' }, { key: 'v2/form.txt' }],
      fields: { key: 'v2/form.txt' },
    });
    const answer = await fetch(action, { method: 'POST', body: formOf(fields, { name: 'form.txt', content: 'v2 form' }) });
    assert.equal(answer.status, 204, await answer.text());
    assert.equal(answer.headers.get('etag'), `"${createHash('md5').update('v2 form').digest('hex')}"`);
    assert.equal((await api.get('data', 'v2/form.txt')).text, 'v2 form');
  });

  test("boto3's generate_presigned_post fields upload, signed with SigV4 and with SigV2", { skip: boto3Skip }, async () => {
    const tools = await s3Tools({ endpoint: `${ts.origin}/s3`, accessKeyId: credentials.clientId, secretAccessKey: credentials.secret });
    try {
      const script = `
out = {}
for name, client in (("v4", s3v4), ("v2", boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
        config=Config(signature_version="s3", s3={"addressing_style": "path"})))):
    out[name] = client.generate_presigned_post("data", "boto/" + name + "/\${filename}", Conditions=[["starts-with", "$key", "boto/"]], ExpiresIn=300)
print(json.dumps(out))
`;
      const result = await tools.python(script);
      assert.equal(result.code, 0, result.stderr);
      const posts = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Record<
        string,
        { url: string; fields: Record<string, string> }
      >;
      assert.ok('x-amz-signature' in (posts.v4?.fields ?? {}), JSON.stringify(posts.v4));
      assert.ok('signature' in (posts.v2?.fields ?? {}), JSON.stringify(posts.v2));
      for (const [name, post] of Object.entries(posts)) {
        const answer = await fetch(post.url, {
          method: 'POST',
          body: formOf(post.fields, { name: 'boto.txt', content: `posted with ${name}` }),
        });
        assert.equal(answer.status, 204, await answer.text());
        assert.equal((await api.get('data', `boto/${name}/boto.txt`)).text, `posted with ${name}`);
      }
    } finally {
      await tools.close();
    }
  });

  test('the S3 port takes forms at /BUCKET, into tmp as into data', async () => {
    const root = ts.server.s3RootUrl() ?? assert.fail('no S3 port');
    const fields = signedFields(credentials, {
      conditions: [{ bucket: 'tmp' }, ['eq', '$key', 'rooted.txt'], { success_action_status: '200' }],
      fields: { key: 'rooted.txt', success_action_status: '200' },
    });
    const answer = await fetch(`${root}/tmp`, { method: 'POST', body: formOf(fields, { name: 'a.txt', content: 'via the S3 port' }) });
    assert.equal(answer.status, 200, await answer.text());
    assert.equal(answer.headers.get('location'), `${root}/tmp/rooted.txt`);
    assert.equal((await api.get('tmp', 'rooted.txt')).text, 'via the S3 port');
  });

  /** Posts `fields` and a file to key `key`, expects the refusal, and checks nothing was stored. */
  const refused = async (
    key: string,
    fields: Record<string, string>,
    status: number,
    code: string,
    content: Buffer | string = 'refused bytes',
  ) => {
    const answer = await fetch(action, { method: 'POST', body: formOf(fields, { name: 'f.txt', content }) });
    const text = await answer.text();
    assert.equal(answer.status, status, text);
    assert.equal(codeOf(text), code, text);
    assert.equal((await api.get('data', key)).status, 404, `${key} stored`);
    return text;
  };

  test('an expired policy is refused', async () => {
    const fields = signedFields(credentials, {
      conditions: [{ key: 'bad/expired.txt' }],
      fields: { key: 'bad/expired.txt' },
      expiresInMs: -60_000,
    });
    assert.match(await refused('bad/expired.txt', fields, 403, 'AccessDenied'), /Policy expired/);
  });

  test('a key outside starts-with is refused, also when the file name makes it', async () => {
    const fields = signedFields(credentials, { conditions: [['starts-with', '$key', 'uploads/']], fields: { key: 'elsewhere/x.txt' } });
    assert.match(await refused('elsewhere/x.txt', fields, 403, 'AccessDenied'), /Policy Condition failed/);
    const named = signedFields(credentials, { conditions: [['starts-with', '$key', 'uploads/']], fields: { key: FILENAME } });
    await refused('f.txt', named, 403, 'AccessDenied');
  });

  test('a file outside content-length-range is refused, above and below', async () => {
    const conditions = [{ key: 'bad/size.bin' }, ['content-length-range', 10, 1000]];
    const fields = signedFields(credentials, { conditions, fields: { key: 'bad/size.bin' } });
    await refused('bad/size.bin', fields, 400, 'EntityTooLarge', Buffer.alloc(5000, 1));
    await refused('bad/size.bin', fields, 400, 'EntityTooSmall', 'tiny');
    const fine = await fetch(action, { method: 'POST', body: formOf(fields, { name: 'f', content: Buffer.alloc(1000, 2) }) });
    assert.equal(fine.status, 204, await fine.text());
    assert.equal((await api.get('data', 'bad/size.bin')).body.length, 1000);
  });

  test('a field no condition covers is refused; x-ignore-* fields need none', async () => {
    const fields = signedFields(credentials, {
      conditions: [{ key: 'bad/extra.txt' }],
      fields: { key: 'bad/extra.txt', 'x-amz-meta-sneaky': 'yes' },
    });
    assert.match(await refused('bad/extra.txt', fields, 403, 'AccessDenied'), /Extra input fields: x-amz-meta-sneaky/);
    const ignored = signedFields(credentials, {
      conditions: [{ key: 'ok/ignored.txt' }],
      fields: { key: 'ok/ignored.txt', 'x-ignore-note': 'free' },
    });
    const answer = await fetch(action, { method: 'POST', body: formOf(ignored, { name: 'f', content: 'ok' }) });
    assert.equal(answer.status, 204, await answer.text());
  });

  test('a wrong signature, an unknown key or no signature at all is refused', async () => {
    const fields = signedFields(credentials, { conditions: [{ key: 'bad/signature.txt' }], fields: { key: 'bad/signature.txt' } });
    const tampered = {
      ...fields,
      policy: Buffer.from(JSON.stringify({ expiration: '2100-01-01T00:00:00Z', conditions: [['starts-with', '$key', '']] })).toString(
        'base64',
      ),
    };
    await refused('bad/signature.txt', tampered, 403, 'SignatureDoesNotMatch');
    const wrongSecret = signedFields(
      { ...credentials, secret: 'not the secret' },
      { conditions: [{ key: 'bad/signature.txt' }], fields: { key: 'bad/signature.txt' } },
    );
    await refused('bad/signature.txt', wrongSecret, 403, 'SignatureDoesNotMatch');
    const v2Wrong = signedFields(
      { ...credentials, secret: 'not the secret' },
      { version: 'v2', conditions: [{ key: 'bad/signature.txt' }], fields: { key: 'bad/signature.txt' } },
    );
    await refused('bad/signature.txt', v2Wrong, 403, 'SignatureDoesNotMatch');
    const unknown = signedFields(
      { clientId: 'stw_nobody', secret: 'x' },
      { conditions: [{ key: 'bad/signature.txt' }], fields: { key: 'bad/signature.txt' } },
    );
    await refused('bad/signature.txt', unknown, 403, 'InvalidAccessKeyId');
    await refused('bad/signature.txt', { key: 'bad/signature.txt' }, 403, 'AccessDenied');
    const { 'x-amz-signature': _, ...unsigned } = fields;
    await refused('bad/signature.txt', unsigned, 403, 'AccessDenied');
  });

  test('a policy that is not one is InvalidPolicyDocument; fields before the file are bounded', async () => {
    const fields = signedFields(credentials, { conditions: [{ key: 'bad/policy.txt' }], fields: { key: 'bad/policy.txt' } });
    for (const policy of [
      'not base64 json',
      Buffer.from('{"conditions": []}').toString('base64'),
      Buffer.from('{"expiration": "2100-01-01T00:00:00Z", "conditions": [["eq", "key"]]}').toString('base64'),
    ]) {
      const signature = createHmac('sha1', credentials.secret).update(policy).digest('base64');
      await refused(
        'bad/policy.txt',
        { key: 'bad/policy.txt', AWSAccessKeyId: credentials.clientId, policy, signature },
        400,
        'InvalidPolicyDocument',
      );
    }
    const padding = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`x-ignore-${i}`, 'p'.repeat(15_000)]));
    await refused('bad/policy.txt', { ...padding, ...fields }, 400, 'MaxPostPreDataLengthExceededError');
    await refused('bad/policy.txt', { 'x-ignore-big': 'p'.repeat(30_000), ...fields }, 400, 'InvalidArgument');
  });

  test('a form that is not well-formed, or has no file, is refused', async () => {
    const fields = signedFields(credentials, { conditions: [{ key: 'bad/nofile.txt' }], fields: { key: 'bad/nofile.txt' } });
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    const noFile = await fetch(action, { method: 'POST', body: form });
    assert.equal(noFile.status, 400);
    assert.equal(codeOf(await noFile.text()), 'InvalidArgument');
    const truncated = await fetch(action, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XX' },
      body: `--XX\r\ncontent-disposition: form-data; name="key"\r\n\r\nbad/nofile.txt\r\n--XX\r\ncontent-disposition: form-data; name="file"; filename="a"\r\n\r\nunfinished`,
    });
    assert.equal(truncated.status, 403, 'no policy: anonymous');
    assert.equal((await api.get('data', 'bad/nofile.txt')).status, 404);
    // Signed, but the body ends inside the file.
    const signed = signedFields(credentials, { conditions: [{ key: 'bad/truncated.txt' }], fields: { key: 'bad/truncated.txt' } });
    const parts = Object.entries(signed).map(
      ([name, value]) => `--XX\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
    );
    const cut = await fetch(action, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XX' },
      body: `${parts.join('')}--XX\r\ncontent-disposition: form-data; name="file"; filename="a"\r\n\r\nunfinished`,
    });
    assert.equal(cut.status, 400);
    assert.equal(codeOf(await cut.text()), 'MalformedPOSTRequest');
    assert.equal((await api.get('data', 'bad/truncated.txt')).status, 404);
  });
});
