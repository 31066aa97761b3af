import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { BodySource } from '../transport.js';

/** A file by path: opened anew for every attempt, so uploads from files are retried safely. */
export async function bodyFromFile(file: string): Promise<BodySource> {
  const { size } = await stat(file);
  return { create: () => createReadStream(file, { highWaterMark: 256 * 1024 }), replayable: true, length: size };
}
