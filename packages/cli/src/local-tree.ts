import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Every regular file under `dir`, as paths relative to it (symbolic links and other kinds are left out). */
export async function listFiles(dir: string, base = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, base), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? listFiles(dir, path.join(base, entry.name))
        : Promise.resolve(entry.isFile() ? [path.join(base, entry.name)] : []),
    ),
  );
  return nested.flat();
}

/** A file's size, from the file system. */
export async function sizeOf(file: string): Promise<number> {
  return (await stat(file)).size;
}

/** A file's sha256 in hex, streamed (what the server keeps for every object). */
export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), hash);
  return hash.digest('hex');
}
