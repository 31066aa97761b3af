import { S3Error, s3Errors } from './errors.js';

/** A POST policy condition: a form field equal to, or starting with, a value; or the file's size range. */
export type PolicyCondition =
  | { readonly kind: 'eq' | 'starts-with'; readonly field: string; readonly value: string }
  | { readonly kind: 'content-length-range'; readonly min: number; readonly max: number };

/** A POST policy document (the form's `policy` field, base64 JSON): its expiry and conditions. */
export interface PostPolicy {
  readonly expiration: number;
  readonly conditions: readonly PolicyCondition[];
}

/** The file's size bounds, both inclusive. */
export interface SizeRange {
  readonly min: number;
  readonly max: number;
}

/**
 * Form fields a policy need not name, as S3 has it: the signature's own fields, the file, the
 * policy itself, and x-ignore-* fields.
 */
const UNCOVERED_FIELDS = new Set(['x-amz-signature', 'signature', 'awsaccesskeyid', 'file', 'policy']);

const invalidPolicy = (problem: string) => new S3Error('InvalidPolicyDocument', `Invalid Policy: ${problem}`);
const refused = (problem: string) => s3Errors.accessDenied(`Invalid according to Policy: ${problem}`);

/** Parses the base64 policy document; InvalidPolicyDocument when it is not one. */
export function parsePostPolicy(base64: string): PostPolicy {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = document as { expiration?: unknown; conditions?: unknown };
  if (typeof expiration !== 'string') throw invalidPolicy('Policy missing expiration.');
  const expiresAt = Date.parse(expiration);
  if (Number.isNaN(expiresAt)) throw invalidPolicy(`Invalid 'expiration' value: '${expiration}'`);
  if (!Array.isArray(conditions)) throw invalidPolicy('Policy missing conditions.');
  return { expiration: expiresAt, conditions: conditions.map(parseCondition) };
}

function parseCondition(condition: unknown): PolicyCondition {
  const text = JSON.stringify(condition);
  if (Array.isArray(condition)) {
    const [operator, first, second] = condition as unknown[];
    const kind = typeof operator === 'string' ? operator.toLowerCase() : '';
    if (kind === 'content-length-range' && condition.length === 3) {
      const [min, max] = [sizeOf(first), sizeOf(second)];
      if (min === undefined || max === undefined || min > max) throw invalidPolicy(`Invalid content-length-range: ${text}`);
      return { kind, min, max };
    }
    if ((kind === 'eq' || kind === 'starts-with') && condition.length === 3 && typeof first === 'string' && first.startsWith('$'))
      if (typeof second === 'string') return { kind, field: first.slice(1).toLowerCase(), value: second };
    throw invalidPolicy(`Invalid Condition: ${text}`);
  }
  if (typeof condition === 'object' && condition !== null) {
    const entries = Object.entries(condition);
    const [field, value] = entries[0] ?? [];
    if (entries.length === 1 && field !== undefined && typeof value === 'string') return { kind: 'eq', field: field.toLowerCase(), value };
  }
  throw invalidPolicy(`Invalid Condition: ${text}`);
}

function sizeOf(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
}

/**
 * Checks the form against its policy, as S3 does: not expired, every condition holding (a field
 * the form lacks counts as empty; `bucket` is the request's bucket), and every form field named by
 * some condition, but for those S3 exempts. `fields` has lowercase names, and the key after
 * `${filename}` was replaced. Answers the file's size range, if the policy sets one.
 */
export function checkPostPolicy(
  policy: PostPolicy,
  fields: ReadonlyMap<string, string>,
  bucket: string,
  now: number,
): SizeRange | undefined {
  if (now > policy.expiration) throw refused('Policy expired.');
  const covered = new Set<string>();
  let range: SizeRange | undefined;
  for (const condition of policy.conditions) {
    if (condition.kind === 'content-length-range') {
      range = { min: condition.min, max: condition.max };
      continue;
    }
    covered.add(condition.field);
    const actual = condition.field === 'bucket' ? bucket : (fields.get(condition.field) ?? '');
    const holds = condition.kind === 'eq' ? actual === condition.value : actual.startsWith(condition.value);
    if (!holds) throw refused(`Policy Condition failed: ["${condition.kind}", "$${condition.field}", "${condition.value}"]`);
  }
  const extra = [...fields.keys()].filter((name) => !UNCOVERED_FIELDS.has(name) && !name.startsWith('x-ignore-') && !covered.has(name));
  if (extra.length > 0) throw refused(`Extra input fields: ${extra.join(', ')}`);
  return range;
}
