import { encodeKey } from './keys.js';

/** Where the browser is: a bucket (a storage type or a named bucket) and a folder in it. */
export interface Place {
  bucket: string;
  prefix: string;
}

export const HOME: Place = { bucket: 'data', prefix: '' };

/**
 * The place in a console URL's fragment, `#/{bucket}/{folder segments}` (`#/team/reports/2025/`),
 * so a folder can be bookmarked, reloaded and sent to whoever it is shared with. The fragment
 * never reaches the server.
 */
export function placeOf(hash: string): Place {
  if (!hash.startsWith('#/')) return HOME;
  const rest = hash.slice(2);
  const slash = rest.indexOf('/');
  try {
    const bucket = decodeURIComponent(slash === -1 ? rest : rest.slice(0, slash));
    const prefix =
      slash === -1
        ? ''
        : rest
            .slice(slash + 1)
            .split('/')
            .map(decodeURIComponent)
            .join('/');
    return bucket ? { bucket, prefix } : HOME;
  } catch {
    return HOME;
  }
}

export function hashOf(place: Place): string {
  return `#/${encodeURIComponent(place.bucket)}/${place.prefix.split('/').map(encodeKey).join('/')}`;
}

/** The console's URL of a place, e.g. to send to someone a folder is shared with. */
export function consoleUrl(place: Place): string {
  return `${location.origin}${location.pathname}${hashOf(place)}`;
}
