import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { UsageError } from './remote-path.js';

/** A profile's name: what a file name can safely be. */
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Where a profile's credentials and server URL are kept (mode 0600): the default profile in
 * ~/.stowage/token_info.json (STOWAGE_TOKEN_INFO_PATH), the file the clients read on their own;
 * a named one in ~/.stowage/profiles/NAME.json, in the same format.
 */
export function profilePath(name: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (name === undefined) return env.STOWAGE_TOKEN_INFO_PATH || path.join(homedir(), '.stowage', 'token_info.json');
  if (!PROFILE_NAME.test(name))
    throw new UsageError(`"${name}" is not a profile name: letters, digits, dots, hyphens and underscores, up to 64`);
  return path.join(homedir(), '.stowage', 'profiles', `${name}.json`);
}

/** The server URL a profile was saved with by `stowage login`, if it has one. */
export function profileUrl(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const url = (JSON.parse(text) as { url?: unknown }).url;
    return typeof url === 'string' && url !== '' ? url : undefined;
  } catch {
    return undefined;
  }
}
