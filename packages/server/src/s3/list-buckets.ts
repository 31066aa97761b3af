import { isStorageTypeOrBucketName } from '../storage/bucket-names.js';
import { ownerXml } from './buckets.js';
import { S3Error } from './errors.js';

/**
 * ListBuckets (GET /): its query and its ListAllMyBucketsResult, a page at a time. The
 * continuation token is the last name of the page, base64url: buckets are listed in name order,
 * so the next page starts after it, and a token stays valid whatever is created or deleted since.
 */

/** S3's largest page, and the one a request without max-buckets gets. */
export const MAX_BUCKETS_PAGE = 10_000;

export interface ListBucketsQuery {
  /** At most this many buckets on the page (1-10000). */
  readonly maxBuckets: number;
  /** The page starts after this name (from continuation-token); undefined for the first page. */
  readonly after: string | undefined;
  /** Only names starting with it; undefined when not asked. */
  readonly prefix: string | undefined;
  /** bucket-region as sent: only buckets of that region (the caller compares it with its own). */
  readonly bucketRegion: string | undefined;
}

/** ListBuckets' query parameters; InvalidArgument for a max-buckets out of 1-10000 or a token this endpoint did not make. */
export function parseListBucketsQuery(query: URLSearchParams): ListBucketsQuery {
  const raw = query.get('max-buckets');
  const maxBuckets = raw === null ? MAX_BUCKETS_PAGE : /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(maxBuckets >= 1 && maxBuckets <= MAX_BUCKETS_PAGE))
    throw invalidArgument(`max-buckets is an integer from 1 to ${MAX_BUCKETS_PAGE}`, 'max-buckets', raw ?? '');
  const token = query.get('continuation-token') || undefined;
  return {
    maxBuckets,
    after: token === undefined ? undefined : decodeBucketsToken(token),
    prefix: query.get('prefix') || undefined,
    bucketRegion: query.get('bucket-region') || undefined,
  };
}

/** The continuation token of a page ending at `lastName`. */
export function encodeBucketsToken(lastName: string): string {
  return Buffer.from(lastName, 'utf8').toString('base64url');
}

/** The name a continuation token holds; InvalidArgument when it is not one encodeBucketsToken made. */
export function decodeBucketsToken(token: string): string {
  const name = Buffer.from(token, 'base64url').toString('utf8');
  // Node's decoder skips what is not base64url; a token that does not encode back the same was not ours.
  if (encodeBucketsToken(name) !== token || !isStorageTypeOrBucketName(name))
    throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  return name;
}

/**
 * ListAllMyBucketsResult (for sendXml) for a page of buckets in name order, listed for `owner`
 * (the caller). With `truncated` (more buckets follow), ContinuationToken resumes after the last.
 */
export function listAllMyBucketsBody(page: {
  readonly owner: string;
  readonly buckets: readonly { readonly name: string; readonly createdAt: Date }[];
  readonly region: string;
  readonly prefix?: string | undefined;
  readonly truncated: boolean;
}): Record<string, unknown> {
  const last = page.buckets.at(-1);
  return {
    Owner: ownerXml(page.owner),
    Buckets: {
      Bucket: page.buckets.map((bucket) => ({
        Name: bucket.name,
        CreationDate: bucket.createdAt.toISOString(),
        BucketRegion: page.region,
      })),
    },
    ...(page.truncated && last !== undefined && { ContinuationToken: encodeBucketsToken(last.name) }),
    ...(page.prefix !== undefined && { Prefix: page.prefix }),
  };
}

function invalidArgument(message: string, name: string, value: string): S3Error {
  return new S3Error('InvalidArgument', message, {}, { ArgumentName: name, ArgumentValue: value });
}
