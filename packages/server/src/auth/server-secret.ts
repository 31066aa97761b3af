import { randomBytes } from 'node:crypto';
import { chmod, link, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const SECRET_FILE = 'secret.key';

/**
 * The server secret: from STOWAGE_JWT_SECRET when given, else kept in the data directory (mode
 * 0600), generated on first start. Several processes may race to create it; `link` makes the
 * first complete file win and the others read it.
 */
export async function loadServerSecret(dataDir: string, configured: string | undefined): Promise<Buffer> {
  if (configured !== undefined) return Buffer.from(configured, 'utf8');
  const file = path.join(dataDir, SECRET_FILE);
  const existing = await readSecretFile(file);
  if (existing) return existing;
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temp, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx', flush: true });
  try {
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(temp, { force: true });
  }
  const created = await readSecretFile(file);
  if (!created) throw new Error(`could not read the server secret at ${file}`);
  return created;
}

async function readSecretFile(file: string): Promise<Buffer | undefined> {
  try {
    const info = await stat(file);
    // Refuse to run with a secret others can read: anyone with it can mint tokens.
    if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
    const text = (await readFile(file, 'utf8')).trim();
    if (text.length < 32) throw new Error(`the server secret at ${file} is too short; delete it to generate a new one`);
    return Buffer.from(text, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
