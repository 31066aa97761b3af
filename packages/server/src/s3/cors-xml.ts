import { CORS_METHODS, type CorsMethod, type CorsRule } from '../storage/cors-rules.js';
import { S3Error, s3Errors } from './errors.js';
import { parseXmlBody } from './xml.js';

/** S3's bound on the rules of one configuration. */
export const MAX_CORS_RULES = 100;
const MAX_ID_LENGTH = 255;
const RULE_ELEMENTS = new Set(['ID', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds']);
/** An RFC 9110 token: what a header name may be. They go into answers' headers, so nothing else may. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f]/;

/**
 * A PutBucketCors body (S3's CORSConfiguration) as rules, refused as S3 refuses it: MalformedXML
 * for what the schema does not allow (no rule, a rule without an origin or method, an unknown
 * element, a MaxAgeSeconds that is not a number, over 100 rules), InvalidRequest for a method S3
 * does not take or a pattern with more than one `*` (none at all in ExposeHeader).
 */
export function parseCorsConfiguration(text: string): CorsRule[] {
  const root = parseXmlBody(text, 'CORSConfiguration');
  for (const name of Object.keys(root)) if (name !== 'CORSRule') throw s3Errors.malformedXml();
  const rules = listOf(root.CORSRule);
  if (rules.length === 0) throw s3Errors.malformedXml();
  if (rules.length > MAX_CORS_RULES)
    throw new S3Error('MalformedXML', `A CORS configuration has at most ${MAX_CORS_RULES} rules; this one has ${rules.length}.`);
  return rules.map(parseRule);
}

/** The rules as GetBucketCors's CORSConfiguration, in S3's element order. */
export function corsConfigurationBody(rules: readonly CorsRule[]): Record<string, unknown> {
  return {
    CORSRule: rules.map((rule) => ({
      ...(rule.id !== undefined && { ID: rule.id }),
      ...(rule.allowedHeaders.length > 0 && { AllowedHeader: rule.allowedHeaders }),
      AllowedMethod: rule.allowedMethods,
      AllowedOrigin: rule.allowedOrigins,
      ...(rule.exposeHeaders.length > 0 && { ExposeHeader: rule.exposeHeaders }),
      ...(rule.maxAgeSeconds !== undefined && { MaxAgeSeconds: rule.maxAgeSeconds }),
    })),
  };
}

function parseRule(element: unknown): CorsRule {
  if (typeof element !== 'object' || element === null) throw s3Errors.malformedXml();
  const fields = element as Record<string, unknown>;
  for (const name of Object.keys(fields)) if (!RULE_ELEMENTS.has(name)) throw s3Errors.malformedXml();
  const allowedOrigins = textsOf(fields.AllowedOrigin);
  const methods = textsOf(fields.AllowedMethod);
  if (allowedOrigins.length === 0 || methods.length === 0) throw s3Errors.malformedXml();
  for (const origin of allowedOrigins) {
    if (origin === '' || CONTROL_OR_SPACE.test(origin)) throw s3Errors.invalidRequest(`AllowedOrigin "${origin}" is not an origin.`);
    assertOneWildcard('AllowedOrigin', origin);
  }
  for (const method of methods)
    if (!(CORS_METHODS as readonly string[]).includes(method))
      throw s3Errors.invalidRequest(`Found unsupported HTTP method in CORS config. Unsupported method is ${method}`);
  const allowedHeaders = textsOf(fields.AllowedHeader);
  for (const header of allowedHeaders) {
    assertHeaderName('AllowedHeader', header);
    assertOneWildcard('AllowedHeader', header);
  }
  const exposeHeaders = textsOf(fields.ExposeHeader);
  for (const header of exposeHeaders) {
    if (header.includes('*'))
      throw s3Errors.invalidRequest(`ExposeHeader "${header}" contains wildcard. We currently do not support wildcard for ExposeHeader.`);
    assertHeaderName('ExposeHeader', header);
  }
  const id = optionalText(fields.ID);
  if (id !== undefined && id.length > MAX_ID_LENGTH)
    throw s3Errors.invalidArgument(`A CORS rule's ID is at most ${MAX_ID_LENGTH} characters.`);
  const maxAge = optionalText(fields.MaxAgeSeconds);
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) throw s3Errors.malformedXml();
  return {
    ...(id !== undefined && { id }),
    allowedOrigins,
    allowedMethods: methods as CorsMethod[],
    allowedHeaders,
    exposeHeaders,
    ...(maxAge !== undefined && { maxAgeSeconds: Number(maxAge) }),
  };
}

function assertOneWildcard(element: string, value: string): void {
  if (value.indexOf('*') !== value.lastIndexOf('*'))
    throw s3Errors.invalidRequest(`${element} "${value}" can not have more than one wildcard.`);
}

function assertHeaderName(element: string, value: string): void {
  if (!HEADER_NAME.test(value)) throw s3Errors.invalidRequest(`${element} "${value}" is not a header name.`);
}

/** An element that may repeat: the parser gives one as a value, several as an array. */
function listOf(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function textsOf(value: unknown): string[] {
  return listOf(value).map((item) => {
    if (typeof item !== 'string') throw s3Errors.malformedXml();
    return item.trim();
  });
}

function optionalText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw s3Errors.malformedXml();
  return value.trim();
}
