import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';

const MiB = 1024 * 1024;

/** Writes `size` bytes (a whole number of MiB) of a per-MiB pattern; returns their sha256. */
export async function writePatternFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < size / MiB; i++) {
    block.fill((i * 31) % 256);
    block.writeUInt32LE(i, 0);
    hash.update(block);
    if (!out.write(Buffer.from(block))) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve) => out.end(resolve));
  return hash.digest('hex');
}

/** Hex sha256 of a file, computed independently of the client's own hashing. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk);
  return hash.digest('hex');
}
