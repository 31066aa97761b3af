import type { AttributeLayout, ObjectAttributes } from '../backends/backend.js';
import type { Grant } from './bucket-model.js';

/**
 * The domain's fields of an object's attributes, typed, in the two groups the engine keeps them
 * in without knowing them: what describes the bytes (`content`, kept by every copy) and the rest
 * of what the writer chose (`chosen`, replaced with the metadata by a copy that replaces it).
 *
 * The index stores them flat in the attributes JSON, under these names. In the scale-out
 * deployment servers of two versions share one index during a rolling upgrade, so a renamed field
 * would be invisible to the older ones: a field keeps its name for good.
 */

/** An object's S3 checksum, as it is stored (the S3 API names and checks the algorithms). */
export interface S3ChecksumAttribute {
  readonly algorithm: string;
  readonly type: 'FULL_OBJECT' | 'COMPOSITE';
  readonly value: string;
  /**
   * For a multipart upload's object: the base64 of its parts' binary checksums, one after the
   * other (GetObjectAttributes lists them; a composite value is their checksum).
   */
  readonly parts?: string | undefined;
  /** The parts' sizes, when they were not all one size but the last (otherwise `partSize` tells them). */
  readonly partSizes?: readonly number[] | undefined;
}

/** What describes an object's bytes (`ObjectAttributes.content`): every copy keeps it. */
export interface ContentFields {
  /** Parts of the S3 multipart upload that made the object. */
  readonly parts?: number | undefined;
  /** The size of each of those parts but the last, when they were all the same (GetObject by partNumber). */
  readonly partSize?: number | undefined;
  /**
   * The ETag S3 clients were given when the object was written through the S3 API, unquoted: the
   * content's MD5, or for a multipart upload the MD5 of its parts' ETags and `-N`. Objects
   * written through storage API v1 have none.
   */
  readonly s3Etag?: string | undefined;
  /**
   * The S3 multipart upload whose completion wrote the value: a CompleteMultipartUpload of it sent
   * again (its answer was lost) is answered with the result while the object is the one it made.
   */
  readonly s3UploadId?: string | undefined;
  /**
   * The S3 flexible checksum the object was written with (x-amz-checksum-*): its algorithm, type
   * (FULL_OBJECT, or COMPOSITE with a `-N` value) and base64 value.
   */
  readonly s3Checksum?: S3ChecksumAttribute | undefined;
}

/** Grants of one object (their prefix is unused), valid at the bucket, owned by `owner`, and key they name. */
export interface ObjectAcl {
  readonly bucket: string;
  /** Who owned the bucket then: in a bucket of that name another user creates later, the ACL gives nothing. */
  readonly owner: string;
  readonly key: string;
  readonly grants: readonly Grant[];
}

/** The rest of what the writer chose (`ObjectAttributes.chosen`): a copy that replaces the metadata replaces it. */
export interface ChosenFields {
  /** Content-Encoding, Content-Language and Expires as an S3 client stored them (the S3 API returns them). */
  readonly s3Headers?: Readonly<Record<string, string>> | undefined;
  /**
   * The object's own ACL: grants of it besides its bucket's (S3's x-amz-acl and PutObjectAcl).
   * It names the bucket (and its owner) and key it was given at, and counts only there: a copy elsewhere, which
   * carries the attributes along, is private (S3's rule: a copy has the ACL its request gives).
   */
  readonly acl?: ObjectAcl | undefined;
}

const CONTENT_FIELDS: { readonly [name in keyof Required<ContentFields>]: true } = {
  parts: true,
  partSize: true,
  s3Etag: true,
  s3UploadId: true,
  s3Checksum: true,
};

/** What the engine is told of the domain's fields when it opens the index: which describe the bytes. */
export const ATTRIBUTE_LAYOUT: AttributeLayout = Object.freeze({ contentFields: Object.freeze(Object.keys(CONTENT_FIELDS)) });

const NONE: ObjectAttributes = { metadata: {}, cacheControl: null, contentDisposition: null };

/**
 * The grants of an object's own ACL in force where the object is: none unless the ACL was given at
 * this bucket, under its present owner, and this key (a copy or move carries the ACL along).
 */
export function objectGrantsAt(
  attributes: ObjectAttributes | null | undefined,
  place: { readonly bucket: string; readonly owner: string; readonly key: string },
): readonly Grant[] {
  const acl = chosenOf(attributes).acl;
  return acl?.bucket === place.bucket && acl.owner === place.owner && acl.key === place.key ? acl.grants : [];
}

/** The fields describing the bytes of an object with `attributes` (none when it has none). */
export function contentOf(attributes: ObjectAttributes | null | undefined): ContentFields {
  return (attributes?.content ?? {}) as ContentFields;
}

/** The writer's fields of an object with `attributes`, besides metadata, Cache-Control and Content-Disposition. */
export function chosenOf(attributes: ObjectAttributes | null | undefined): ChosenFields {
  return (attributes?.chosen ?? {}) as ChosenFields;
}

/** `attributes` (none: empty ones) with `fields` set in what describes the bytes; a field given as undefined is removed. */
export function withContent(attributes: ObjectAttributes | null | undefined, fields: ContentFields): ObjectAttributes {
  const { content, ...rest } = attributes ?? NONE;
  const merged = present({ ...content, ...fields });
  return merged ? { ...rest, content: merged } : rest;
}

/** `attributes` (none: empty ones) with `fields` set in the writer's; a field given as undefined is removed. */
export function withChosen(attributes: ObjectAttributes | null | undefined, fields: ChosenFields): ObjectAttributes {
  const { chosen, ...rest } = attributes ?? NONE;
  const merged = present({ ...chosen, ...fields });
  return merged ? { ...rest, chosen: merged } : rest;
}

/** The fields that say something (as stored: no empty string, zero or absent value), or undefined when none do. */
function present(fields: Record<string, unknown>): Record<string, unknown> | undefined {
  const kept = Object.entries(fields).filter(([, value]) => value !== undefined && value !== null && value !== '' && value !== 0);
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}
