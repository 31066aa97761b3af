import { bucketSegment } from './buckets.js';
import { type BucketName, type FolderListing, Headers, type ObjectDetails, Routes } from './protocol.js';
import type { Transport } from './transport.js';

/** Options of a folder or detailed listing. */
export interface ListingShape {
  /** List keys one level down only: deeper keys show as their folder (the prefix up to and including the delimiter). */
  delimiter?: string | undefined;
  /** Describe each object as a HEAD would (size, ETag, metadata…), in the same request. */
  details?: boolean | undefined;
}

/** A key of a folder or detailed listing; `details` when the listing asked for them. */
export interface ObjectEntry {
  readonly kind: 'object';
  readonly key: string;
  readonly details?: ObjectDetails;
}

/** A sub-prefix of a folder listing (it ends with the delimiter). */
export interface FolderEntry {
  readonly kind: 'folder';
  readonly prefix: string;
}

/** One entry of a folder or detailed listing; entries come in UTF-8 byte order of key or prefix. */
export type ListEntry = ObjectEntry | FolderEntry;

/** An entry of a detailed listing: every object has its details. */
export type DetailedListEntry = (ObjectEntry & { readonly details: ObjectDetails }) | FolderEntry;

/** One page of a listing, with the token of the next when more remain. */
export interface Page<T> {
  items: T;
  next: string | undefined;
}

interface Call {
  storageType: BucketName;
  signal: AbortSignal | undefined;
}

/** `GET {bucket}/list` with the query given: the parsed body and the X-NEXT token. */
export async function fetchListPage<T>(
  transport: Transport,
  query: URLSearchParams,
  call: Call,
  token: string | undefined,
): Promise<Page<T>> {
  const url = `/${bucketSegment(call.storageType)}/${Routes.list}${query.size ? `?${query}` : ''}`;
  return transport.send({ method: 'GET', url, headers: token ? { [Headers.next]: token } : {}, signal: call.signal }, async (response) => {
    const next = response.headers[Headers.next];
    return { items: (await response.body.json()) as T, next: typeof next === 'string' && next !== '' ? next : undefined };
  });
}

/** The query of a listing; empty values are left out, as the plain listing always did. */
export function listQuery(prefix: string | undefined, shape: ListingShape = {}): URLSearchParams {
  const query = new URLSearchParams(prefix ? { prefix } : {});
  if (shape.delimiter) query.set('delimiter', shape.delimiter);
  if (shape.details) query.set('details', 'true');
  return query;
}

/** Whether a listing asks for the object answer `{objects, folders}` rather than an array of keys. */
export function isShaped(shape: ListingShape | undefined): boolean {
  return Boolean(shape?.delimiter) || shape?.details === true;
}

/** A page's objects and folders as one sequence, merged in UTF-8 byte order (each list is already sorted). */
export function entriesOf(page: FolderListing): ListEntry[] {
  const objects = page.objects.map((object): ListEntry => {
    if (typeof object === 'string') return { kind: 'object', key: object };
    return { kind: 'object', key: object.key, details: object };
  });
  const folders = page.folders.map((prefix): ListEntry => ({ kind: 'folder', prefix }));
  const out: ListEntry[] = [];
  let i = 0;
  let j = 0;
  while (i < objects.length || j < folders.length) {
    const object = objects[i];
    const folder = folders[j];
    if (folder === undefined || (object !== undefined && compareUtf8(nameOf(object), nameOf(folder)) < 0)) {
      out.push(object as ListEntry);
      i++;
    } else {
      out.push(folder);
      j++;
    }
  }
  return out;
}

function nameOf(entry: ListEntry): string {
  return entry.kind === 'object' ? entry.key : entry.prefix;
}

/** Orders strings as the server does: by their UTF-8 bytes (not by UTF-16 code units). */
function compareUtf8(a: string, b: string): number {
  const encoder = new TextEncoder();
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  const shorter = Math.min(left.length, right.length);
  for (let i = 0; i < shorter; i++) {
    if (left[i] !== right[i]) return (left[i] as number) - (right[i] as number);
  }
  return left.length - right.length;
}
