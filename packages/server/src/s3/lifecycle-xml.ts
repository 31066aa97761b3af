import { randomUUID } from 'node:crypto';
import type { LifecycleRule } from '../storage/bucket-model.js';
import { S3Error, s3Errors } from './errors.js';
import { xmlRoot } from './xml.js';
import { childrenOf, listOf, onlyChildren, optionalText, requiredText } from './xml-fields.js';

/**
 * S3's LifecycleConfiguration, as far as Stowage has it: rules that expire the objects under a
 * prefix a number of days after they were written; NoncurrentVersionExpiration: for the whole
 * bucket it is the bucket's retention window, for a prefix how long the values replaced or deleted
 * at its keys are kept instead, with NewerNoncurrentVersions kept longer; ExpiredObjectDeleteMarker;
 * and AbortIncompleteMultipartUpload, the lifetime of multipart uploads begun under the prefix. Other
 * actions and filters are NotImplemented (named in the message), never accepted and left undone.
 */

/** S3's bounds on a configuration's rules and a rule's ID. */
export const MAX_LIFECYCLE_RULES = 1000;
const MAX_ID_LENGTH = 255;
/** The largest Days S3's schema takes (an xs:int). */
const MAX_DAYS = 2_147_483_647;
/** The longest retention window a bucket takes (retentionDays on storage API v1). */
const MAX_RETENTION_DAYS = 36_500;
/** The most noncurrent versions a rule keeps by count (S3's bound on NewerNoncurrentVersions). */
const MAX_NEWER_VERSIONS = 100;

const RULE_ELEMENTS = ['ID', 'Prefix', 'Filter', 'Status', 'Expiration', 'NoncurrentVersionExpiration', 'AbortIncompleteMultipartUpload'];
const UNSUPPORTED_RULE_ELEMENTS: Record<string, string> = {
  Transition: 'Lifecycle Transition (Stowage has one storage class)',
  Transitions: 'Lifecycle Transition (Stowage has one storage class)',
  NoncurrentVersionTransition: 'Lifecycle NoncurrentVersionTransition (Stowage has one storage class)',
};
const UNSUPPORTED_FILTER_ELEMENTS = ['Tag', 'And', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan'];

/**
 * A PutBucketLifecycleConfiguration body as rules. Each rule: an ID (one is made when it has
 * none), Filter with a Prefix, an empty Filter (every key) or the legacy Prefix beside Filter's
 * place, Status Enabled or Disabled, and its actions: Expiration (Days, a positive integer, or
 * ExpiredObjectDeleteMarker), NoncurrentVersionExpiration, AbortIncompleteMultipartUpload. Refused
 * as S3 refuses: MalformedXML for what the schema does not allow; InvalidRequest for no rule, over
 * 1000 rules or a rule without an action; InvalidArgument for Days of 0, an ID over 255 characters
 * or two rules with one ID; NotImplemented for the actions and filters Stowage does not have.
 */
export function parseLifecycleConfiguration(text: string): LifecycleRule[] {
  const root = childrenOf(xmlRoot(text, 'LifecycleConfiguration'), s3Errors.malformedXml);
  onlyChildren(root, ['Rule'], s3Errors.malformedXml);
  const elements = listOf(root.Rule);
  if (elements.length === 0) throw s3Errors.invalidRequest('At least one lifecycle rule must be specified.');
  if (elements.length > MAX_LIFECYCLE_RULES)
    throw s3Errors.invalidRequest(`The number of lifecycle rules must not exceed the allowed limit of ${MAX_LIFECYCLE_RULES} rules.`);
  const rules = elements.map(parseRule);
  if (new Set(rules.map((rule) => rule.id)).size !== rules.length)
    throw s3Errors.invalidArgument('Rule ID must be unique. Found same ID for more than one rule');
  return rules;
}

/** GetBucketLifecycleConfiguration's LifecycleConfiguration (for sendXml), in the Filter/Prefix form. */
export function lifecycleConfigurationBody(rules: readonly LifecycleRule[]): Record<string, unknown> {
  return {
    Rule: rules.map((rule) => ({
      ID: rule.id,
      Filter: { Prefix: rule.prefix },
      Status: rule.enabled ? 'Enabled' : 'Disabled',
      ...(rule.days !== null ? { Expiration: { Days: rule.days } } : {}),
      ...(rule.expiredMarkers !== undefined ? { Expiration: { ExpiredObjectDeleteMarker: rule.expiredMarkers } } : {}),
      ...(rule.noncurrentDays !== undefined
        ? {
            NoncurrentVersionExpiration: {
              NoncurrentDays: rule.noncurrentDays,
              ...(rule.noncurrentNewer !== undefined ? { NewerNoncurrentVersions: rule.noncurrentNewer } : {}),
            },
          }
        : {}),
      ...(rule.abortIncompleteDays !== undefined
        ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: rule.abortIncompleteDays } }
        : {}),
    })),
  };
}

function parseRule(element: unknown): LifecycleRule {
  const fields = childrenOf(element, s3Errors.malformedXml);
  for (const name of Object.keys(fields)) {
    const unsupported = Object.hasOwn(UNSUPPORTED_RULE_ELEMENTS, name) ? UNSUPPORTED_RULE_ELEMENTS[name] : undefined;
    if (unsupported !== undefined) throw s3Errors.notImplemented(unsupported);
  }
  onlyChildren(fields, RULE_ELEMENTS, s3Errors.malformedXml);
  const given = optionalText(fields.ID, s3Errors.malformedXml);
  if (given !== undefined && given.length > MAX_ID_LENGTH)
    throw s3Errors.invalidArgument(`ID length should not exceed allowed limit of ${MAX_ID_LENGTH}`);
  const status = requiredText(fields.Status, s3Errors.malformedXml).trim();
  if (status !== 'Enabled' && status !== 'Disabled') throw s3Errors.malformedXml();
  const prefix = parsePrefix(fields);
  if (
    fields.Expiration === undefined &&
    fields.NoncurrentVersionExpiration === undefined &&
    fields.AbortIncompleteMultipartUpload === undefined
  )
    throw s3Errors.invalidRequest('At least one action must be specified in a lifecycle rule.');
  const expiration = fields.Expiration === undefined ? { days: null } : parseExpiration(fields.Expiration);
  const rule: LifecycleRule = { id: given || randomUUID(), prefix, enabled: status === 'Enabled', ...expiration };
  return {
    ...rule,
    ...(fields.NoncurrentVersionExpiration === undefined ? {} : parseNoncurrentExpiration(fields.NoncurrentVersionExpiration)),
    ...(fields.AbortIncompleteMultipartUpload === undefined
      ? {}
      : { abortIncompleteDays: parseAbortIncomplete(fields.AbortIncompleteMultipartUpload) }),
  };
}

/**
 * NoncurrentVersionExpiration: NoncurrentDays, a positive integer, and NewerNoncurrentVersions
 * (how many of a key's newest noncurrent versions outlive those days), 1 to 100 when given.
 */
function parseNoncurrentExpiration(element: unknown): Pick<LifecycleRule, 'noncurrentDays' | 'noncurrentNewer'> {
  const expiration = childrenOf(element, s3Errors.malformedXml);
  onlyChildren(expiration, ['NoncurrentDays', 'NewerNoncurrentVersions'], s3Errors.malformedXml);
  const noncurrentDays = integerIn(expiration.NoncurrentDays, 'NoncurrentDays', MAX_RETENTION_DAYS);
  if (expiration.NewerNoncurrentVersions === undefined) return { noncurrentDays };
  return { noncurrentDays, noncurrentNewer: integerIn(expiration.NewerNoncurrentVersions, 'NewerNoncurrentVersions', MAX_NEWER_VERSIONS) };
}

/** AbortIncompleteMultipartUpload's DaysAfterInitiation, a positive integer. */
function parseAbortIncomplete(element: unknown): number {
  const abort = childrenOf(element, s3Errors.malformedXml);
  onlyChildren(abort, ['DaysAfterInitiation'], s3Errors.malformedXml);
  return integerIn(abort.DaysAfterInitiation, 'DaysAfterInitiation', MAX_DAYS, 'AbortIncompleteMultipartUpload');
}

/** A lifecycle action's integer field, 1 to `max`: MalformedXML when not an integer, InvalidArgument out of bounds. */
function integerIn(element: unknown, name: string, max: number, action = 'NoncurrentVersionExpiration'): number {
  const text = requiredText(element, s3Errors.malformedXml).trim();
  if (!/^-?\d+$/.test(text)) throw s3Errors.malformedXml();
  const value = Number(text);
  if (value <= 0 || value > max) throw s3Errors.invalidArgument(`'${name}' for ${action} action must be a positive integer up to ${max}`);
  return value;
}

/**
 * The retention window (days) a lifecycle configuration sets: the shortest NoncurrentDays of its
 * enabled rules for the whole bucket (a rule for a prefix is that prefix's own); undefined when
 * none sets one.
 */
export function noncurrentDaysOf(rules: readonly LifecycleRule[]): number | undefined {
  const days = rules.flatMap((rule) =>
    rule.enabled && rule.prefix === '' && rule.noncurrentDays !== undefined ? [rule.noncurrentDays] : [],
  );
  return days.length === 0 ? undefined : Math.min(...days);
}

/** The keys a rule covers: Filter (with a Prefix, or empty for every key) or the legacy Prefix, one of the two. */
function parsePrefix(fields: Record<string, unknown>): string {
  if (fields.Filter !== undefined && fields.Prefix !== undefined)
    throw new S3Error('MalformedXML', 'A lifecycle rule has a Filter or a Prefix, not both.');
  if (fields.Prefix !== undefined) return wellFormed(requiredText(fields.Prefix, s3Errors.malformedXml));
  if (fields.Filter === undefined) throw new S3Error('MalformedXML', 'A lifecycle rule needs a Filter (empty for every key) or a Prefix.');
  const filter = childrenOf(fields.Filter, s3Errors.malformedXml);
  const unsupported = UNSUPPORTED_FILTER_ELEMENTS.find((name) => filter[name] !== undefined);
  if (unsupported !== undefined) throw s3Errors.notImplemented(`A lifecycle Filter by ${unsupported} (Stowage filters by Prefix only)`);
  onlyChildren(filter, ['Prefix'], s3Errors.malformedXml);
  return wellFormed(optionalText(filter.Prefix, s3Errors.malformedXml) ?? '');
}

/** A prefix no key could start with (a lone surrogate, from a character reference) is refused: rules match keys as UTF-8. */
function wellFormed(prefix: string): string {
  if (Buffer.from(prefix, 'utf8').toString('utf8') !== prefix)
    throw s3Errors.invalidArgument('A lifecycle Prefix must be valid UTF-8 text');
  return prefix;
}

/**
 * Expiration: Days, a positive integer, or ExpiredObjectDeleteMarker, true or false (one of the
 * two, as S3's schema has it).
 */
function parseExpiration(element: unknown): Pick<LifecycleRule, 'days' | 'expiredMarkers'> {
  const expiration = childrenOf(element, s3Errors.malformedXml);
  if (expiration.Date !== undefined) throw s3Errors.notImplemented('Lifecycle Expiration by Date (Stowage expires by Days)');
  onlyChildren(expiration, ['Days', 'ExpiredObjectDeleteMarker'], s3Errors.malformedXml);
  if (expiration.ExpiredObjectDeleteMarker !== undefined) {
    // As S3 answers it: the schema's Expiration is one of the two.
    if (expiration.Days !== undefined)
      throw new S3Error('MalformedXML', 'ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy');
    const flag = requiredText(expiration.ExpiredObjectDeleteMarker, s3Errors.malformedXml).trim();
    if (flag !== 'true' && flag !== 'false') throw s3Errors.malformedXml();
    return { days: null, expiredMarkers: flag === 'true' };
  }
  const text = requiredText(expiration.Days, s3Errors.malformedXml).trim();
  if (!/^-?\d+$/.test(text)) throw s3Errors.malformedXml();
  const days = Number(text);
  if (days <= 0 || days > MAX_DAYS) throw s3Errors.invalidArgument("'Days' for Expiration action must be a positive integer");
  return { days };
}
