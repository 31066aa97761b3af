import { encodeKey } from './keys.js';

/** Where the browser is: a bucket (a storage type or a named bucket) and a folder in it. */
export interface Place {
  bucket: string;
  prefix: string;
}

export const HOME: Place = { bucket: 'data', prefix: '' };

export type SortColumn = 'name' | 'size' | 'modified';

export interface Sort {
  by: SortColumn;
  descending: boolean;
}

/** The server's own order: names ascending. */
export const BY_NAME: Sort = { by: 'name', descending: false };

/** Everything a view of the browser shows: the place, the search in it, its order and the object previewed. */
export interface View extends Place {
  search: string;
  sort: Sort;
  /** The key of the object previewed, if any. */
  object: string | undefined;
}

export const viewAt = (place: Place): View => ({ ...place, search: '', sort: BY_NAME, object: undefined });

/**
 * The place in a console URL's fragment, `#/{bucket}/{folder segments}` (`#/team/reports/2025/`),
 * so a folder can be bookmarked, reloaded and sent to whoever it is shared with. The fragment
 * never reaches the server.
 */
export function placeOf(hash: string): Place {
  const { bucket, prefix } = viewOf(hash);
  return { bucket, prefix };
}

/**
 * The whole view in a fragment: the place, then `?q=…&sort=…&object=…` for the search, the order
 * (`size`, `-modified`; names ascending when absent) and the previewed key. Keys are encoded
 * segment by segment, so a `?` in a folder's name never starts the query.
 */
export function viewOf(hash: string): View {
  if (!hash.startsWith('#/')) return viewAt(HOME);
  const question = hash.indexOf('?');
  const path = question === -1 ? hash.slice(2) : hash.slice(2, question);
  const query = new URLSearchParams(question === -1 ? '' : hash.slice(question + 1));
  const slash = path.indexOf('/');
  try {
    const bucket = decodeURIComponent(slash === -1 ? path : path.slice(0, slash));
    const prefix =
      slash === -1
        ? ''
        : path
            .slice(slash + 1)
            .split('/')
            .map(decodeURIComponent)
            .join('/');
    if (!bucket) return viewAt(HOME);
    return { bucket, prefix, search: query.get('q') ?? '', sort: sortOf(query.get('sort')), object: query.get('object') || undefined };
  } catch {
    return viewAt(HOME);
  }
}

function sortOf(text: string | null): Sort {
  const descending = text?.startsWith('-') ?? false;
  const by = descending ? text?.slice(1) : text;
  return by === 'size' || by === 'modified' || by === 'name' ? { by, descending } : BY_NAME;
}

export function hashOf(place: Place | View): string {
  const path = `#/${encodeURIComponent(place.bucket)}/${place.prefix.split('/').map(encodeKey).join('/')}`;
  if (!('search' in place)) return path;
  const query = new URLSearchParams();
  if (place.search) query.set('q', place.search);
  if (place.sort.by !== 'name' || place.sort.descending) query.set('sort', `${place.sort.descending ? '-' : ''}${place.sort.by}`);
  if (place.object !== undefined) query.set('object', place.object);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** The console's URL of a place, e.g. to send to someone a folder is shared with. */
export function consoleUrl(place: Place): string {
  return `${location.origin}${location.pathname}${hashOf(place)}`;
}
