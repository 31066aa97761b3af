import { type Grant, type Grantee, PERMISSIONS, type Permission } from '../storage/bucket-model.js';
import { ownerXml } from './buckets.js';
import { S3Error, s3Errors } from './errors.js';
import { ALL_USERS_URI, AUTHENTICATED_USERS_URI, groupGrantee, isUserId, MAX_GRANTS, uniqueGrants } from './grant-headers.js';
import { xmlRoot } from './xml.js';
import { childrenOf, listOf, onlyChildren, optionalText, requiredText } from './xml-fields.js';

/** S3's AccessControlPolicy document (PutBucketAcl/PutObjectAcl bodies, GetBucketAcl/GetObjectAcl answers). */

const XSI_NAMESPACE = 'http://www.w3.org/2001/XMLSchema-instance';

/**
 * A PutBucketAcl/PutObjectAcl body as grants covering `prefix` ('' for the bucket, the key for an
 * object). Grants to `owner` (the bucket's owner) are implicit and dropped, as are repeats.
 * MalformedACLError for what is not an AccessControlPolicy of CanonicalUser and Group grantees
 * with S3's permissions; AccessDenied for an `<Owner>` other than `owner` (an ACL cannot change
 * the owner); UnresolvableGrantByEmailAddress for a grantee named by e-mail address.
 */
export function parseAccessControlPolicy(text: string, options: { owner: string; prefix: string }): Grant[] {
  const root = childrenOf(xmlRoot(text, 'AccessControlPolicy', { attributes: true }), malformed);
  onlyChildren(root, ['Owner', 'AccessControlList'], malformed);
  if (root.Owner !== undefined) {
    const owner = childrenOf(root.Owner, malformed);
    onlyChildren(owner, ['ID', 'DisplayName'], malformed);
    if (requiredText(owner.ID, malformed) !== options.owner)
      throw s3Errors.accessDenied("The ACL's Owner is not the owner of the bucket; an ACL cannot change the owner");
  }
  const list = root.AccessControlList === undefined ? {} : childrenOf(root.AccessControlList, malformed);
  onlyChildren(list, ['Grant'], malformed);
  const grants = listOf(list.Grant).map((element) => {
    const grant = childrenOf(element, malformed);
    onlyChildren(grant, ['Grantee', 'Permission'], malformed);
    const permission = requiredText(grant.Permission, malformed).trim();
    if (!(PERMISSIONS as readonly string[]).includes(permission)) throw malformed();
    return { grantee: parseGrantee(grant.Grantee), permission: permission as Permission, prefix: options.prefix };
  });
  const result = uniqueGrants(grants, options.owner);
  if (result.length > MAX_GRANTS) throw s3Errors.malformedAcl(`An ACL has at most ${MAX_GRANTS} grants; this one has ${result.length}`);
  return result;
}

/**
 * GetBucketAcl/GetObjectAcl's AccessControlPolicy (for sendXml): the owner with FULL_CONTROL
 * first, as S3 lists it, then `grants` in their order. The caller picks the grants that apply
 * (those covering the bucket, or the object's own).
 */
export function accessControlPolicyBody(owner: string, grants: readonly Grant[]): Record<string, unknown> {
  return {
    Owner: ownerXml(owner),
    AccessControlList: {
      Grant: [{ grantee: { kind: 'user', id: owner } as Grantee, permission: 'FULL_CONTROL' as Permission }, ...grants].map((grant) => ({
        Grantee: granteeXml(grant.grantee),
        Permission: grant.permission,
      })),
    },
  };
}

function granteeXml(grantee: Grantee): Record<string, unknown> {
  const namespace = { '@_xmlns:xsi': XSI_NAMESPACE };
  if (grantee.kind === 'user') return { ...namespace, '@_xsi:type': 'CanonicalUser', ...ownerXml(grantee.id) };
  return { ...namespace, '@_xsi:type': 'Group', URI: grantee.kind === 'everyone' ? ALL_USERS_URI : AUTHENTICATED_USERS_URI };
}

/** A Grantee by its `xsi:type`, or, when a client leaves that out, by the element naming it. */
function parseGrantee(element: unknown): Grantee {
  const fields = childrenOf(element, malformed);
  const type = typeAttribute(element) ?? (fields.ID !== undefined ? 'CanonicalUser' : fields.URI !== undefined ? 'Group' : undefined);
  if (type === 'AmazonCustomerByEmail' || (type === undefined && fields.EmailAddress !== undefined))
    throw new S3Error('UnresolvableGrantByEmailAddress', 'Stowage names users by id only (a CanonicalUser grantee), not by e-mail address');
  if (type === 'CanonicalUser') {
    onlyChildren(fields, ['ID', 'DisplayName'], malformed);
    const id = requiredText(fields.ID, malformed);
    if (!isUserId(id)) throw malformed();
    return { kind: 'user', id };
  }
  if (type === 'Group') {
    onlyChildren(fields, ['URI', 'DisplayName'], malformed);
    const group = groupGrantee(requiredText(fields.URI, malformed).trim());
    if (group === undefined) throw s3Errors.malformedAcl('A Group grantee is AllUsers or AuthenticatedUsers');
    return group;
  }
  throw s3Errors.malformedAcl('A Grantee is a CanonicalUser (ID) or a Group (URI)');
}

/**
 * The Grantee's `xsi:type`: the `type` attribute under the `xsi` prefix (declared here or on an
 * ancestor, as clients do), or under another prefix the Grantee binds to the XSI namespace.
 */
function typeAttribute(element: unknown): string | undefined {
  if (typeof element !== 'object' || element === null) return undefined;
  const attributes = element as Record<string, unknown>;
  for (const [name, value] of Object.entries(attributes)) {
    const prefix = /^@_([^:]+):type$/.exec(name)?.[1];
    if (prefix === undefined || (prefix !== 'xsi' && attributes[`@_xmlns:${prefix}`] !== XSI_NAMESPACE)) continue;
    return optionalText(value, malformed);
  }
  return undefined;
}

function malformed(): S3Error {
  return s3Errors.malformedAcl();
}
