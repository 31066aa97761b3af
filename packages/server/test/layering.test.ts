// Guards the layering of docs/architecture.md: the fronts (storage API v1 under src/http, the
// S3-compatible API under src/s3) stand on the domain (src/storage) and never reach the engine
// (src/backends). A front that imported from the engine, or called it through a `backend` it was
// handed, would restate a rule the domain keeps once (tmp expiry, ETags, metadata limits, write
// conditions) and drift from the other front.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
const FRONTS = ['http', 's3'];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(full);
      return Promise.resolve(entry.name.endsWith('.ts') ? [full] : []);
    }),
  );
  return nested.flat();
}

test('no front imports from the engine or calls it', async () => {
  const offences: string[] = [];
  for (const front of FRONTS) {
    for (const file of await sourceFiles(path.join(SRC, front))) {
      const text = await readFile(file, 'utf8');
      const name = path.relative(SRC, file);
      for (const match of text.matchAll(/from\s+'([^']+)'/g)) {
        const target = path.resolve(path.dirname(file), match[1] as string);
        if (target.startsWith(path.join(SRC, 'backends') + path.sep)) offences.push(`${name} imports ${match[1]}`);
      }
      if (/\bctx\.backend\b|\bcontext\.backend\b/.test(text)) offences.push(`${name} calls the engine through the context`);
    }
  }
  assert.deepEqual(offences, []);
});

test('the fronts were found', async () => {
  // A moved source tree must not make the guard above pass by finding nothing.
  for (const front of FRONTS) assert.ok((await sourceFiles(path.join(SRC, front))).length > 5, front);
});

test("the engine names none of the domain's attribute fields: it keeps them as the domain's groups", async () => {
  // Attributes carry what S3 records of an object (its MD5 ETag, checksum, upload, stored
  // headers) in the domain's fields; the engine stores them and applies the copy rule by group
  // (storage/object-attributes.ts gives it the names of those that describe the bytes).
  const offences: string[] = [];
  for (const file of await sourceFiles(path.join(SRC, 'backends'))) {
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/s3Etag|s3Checksum|s3UploadId|s3Headers|partSize/g))
      offences.push(`${path.relative(SRC, file)} names ${match[0]}`);
  }
  assert.deepEqual(offences, []);
  assert.ok((await sourceFiles(path.join(SRC, 'backends'))).length > 10, 'the engine was found');
});
