// A data directory of real blob files for the backup and migrate rows: objects of 256 KiB of
// random bytes written through a server's v1 API (8 in flight), made once per run and shared.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { issueToken, startStowage } from '../servers.mjs';

export const OBJECT_BYTES = 256 * 1024;
const IN_FLIGHT = 8;

/** { dir, token, objects, bytes }: made on the first call, the same data directory after. */
export async function blobDataset(ctx) {
  if (ctx.blobDataset) return ctx.blobDataset;
  const objects = ctx.quick ? 400 : 1600;
  const dir = path.join(ctx.work, 'blob-dataset');
  mkdirSync(dir, { recursive: true });
  const server = await startStowage(dir);
  try {
    const token = await issueToken(dir);
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        for (let i = next++; i < objects; i = next++) {
          const key = `set/${String(i).padStart(5, '0')}.bin`;
          const answer = await fetch(`${server.url}/data/set/${key}`, {
            method: 'PUT',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
            body: randomBytes(OBJECT_BYTES),
          });
          await answer.arrayBuffer();
          if (!answer.ok) throw new Error(`storing ${key} failed: ${answer.status}`);
        }
      }),
    );
    ctx.log(`blob data set: ${objects} objects of ${OBJECT_BYTES / 1024} KiB in ${dir}`);
    ctx.blobDataset = { dir, token, objects, bytes: objects * OBJECT_BYTES };
    return ctx.blobDataset;
  } finally {
    await server.stop();
  }
}
