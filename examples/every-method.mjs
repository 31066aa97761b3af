import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NotFoundError, Storage } from 'stowage-client';

const storage = new Storage(); // STOWAGE_URL and STOWAGE_TOKEN come from the environment

await storage.set('hello.txt', 'Hello, Stowage!');
console.log(await storage.get('hello.txt')); // Hello, Stowage!
console.log((await storage.getBytes('hello.txt')).length); // 15
console.log(await storage.exists('hello.txt')); // true

await storage.set('scratch/session', 'short-lived', 'tmp'); // tmp values expire after 24 h
for (const day of [1, 2, 3]) await storage.set(`logs/day-${day}`, `entry ${day}`, { storageType: 'result' });
console.log(await storage.list('logs/', 'result')); // [ 'logs/day-1', 'logs/day-2', 'logs/day-3' ]
for await (const key of storage.iterList('logs/', 'result')) console.log(key);

const dir = await mkdtemp(path.join(tmpdir(), 'stowage-example-'));
await writeFile(path.join(dir, 'in.csv'), 'a,b\n1,2\n');
await storage.setFile('tables/in.csv', path.join(dir, 'in.csv'), { contentType: 'text/csv' });
await storage.getFile('tables/in.csv', path.join(dir, 'out.csv'));
console.log(await readFile(path.join(dir, 'out.csv'), 'utf8')); // a,b 1,2

for await (const chunk of await storage.getStream('tables/in.csv')) process.stdout.write(chunk);

const signedUrl = await storage.getSignedUrl('hello.txt', { expiresIn: 600 });
console.log(await (await fetch(signedUrl)).text()); // Hello, Stowage! (no token needed)

const uploadUrl = await storage.getUploadUrl('uploads/report.txt');
await fetch(uploadUrl, { method: 'PUT', body: 'uploaded without a token' });
console.log(await storage.get('uploads/report.txt')); // uploaded without a token

await storage.delete('hello.txt');
try {
  await storage.get('hello.txt');
} catch (error) {
  console.log(error instanceof NotFoundError, error.code); // true NoSuchKey
}
await storage.close();
