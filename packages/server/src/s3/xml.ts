import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import type { FastifyReply } from 'fastify';
import { S3Error, s3Errors } from './errors.js';

const NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';
const builder = new XMLBuilder({ ignoreAttributes: false, suppressEmptyNode: false, format: false });
// htmlEntities: numeric character references too (Go's encoding/xml, which rclone uses, writes &#34; for a quote).
const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (name) => ARRAYS.has(name),
});
/** Elements that may repeat in the request bodies this endpoint reads. */
const ARRAYS = new Set(['Object', 'Part']);
/** The same, keeping attributes as `@_name` (an ACL's Grantee says its type in `xsi:type`), without ARRAYS. */
const attributeParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
});

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** An S3 response document: `<Root xmlns="…">…</Root>` with the XML declaration. */
export function xmlDocument(root: string, body: Record<string, unknown>): string {
  return `${XML_DECLARATION}${xmlElement(root, body)}`;
}

/** The root element of an S3 response document, without the declaration. */
export function xmlElement(root: string, body: Record<string, unknown>): string {
  return builder.build({ [root]: { '@_xmlns': NAMESPACE, ...body } });
}

/** A 200 answer with an S3 response document. */
export function sendXml(reply: FastifyReply, root: string, body: Record<string, unknown>) {
  return reply.code(200).type('application/xml').send(xmlDocument(root, body));
}

/** S3's error body. */
export function errorDocument(error: S3Error, resource: string, requestId: string): string {
  return `${XML_DECLARATION}${errorElement(error, resource, requestId)}`;
}

/** S3's `<Error>` element, without the declaration. */
export function errorElement(error: S3Error, resource: string, requestId: string): string {
  return builder.build({ Error: { Code: error.code, Message: error.message, ...error.details, Resource: resource, RequestId: requestId } });
}

/** Parses a request body that must be the XML element `root`; MalformedXML otherwise. */
export function parseXmlBody(text: string, root: string): Record<string, unknown> {
  const element = xmlRoot(text, root);
  if (element === undefined || typeof element !== 'object' || element === null) throw s3Errors.malformedXml();
  return element as Record<string, unknown>;
}

/**
 * The element `root` of an XML body as the parser gives it (a string when it has no child
 * element), or undefined when the body is not well-formed XML or has another root. With
 * `attributes`, attributes are kept as `@_name` and no element is made an array unless repeated.
 */
export function xmlRoot(text: string, root: string, options: { attributes?: boolean } = {}): unknown {
  try {
    const parsed = (options.attributes ? attributeParser : parser).parse(text, true) as Record<string, unknown>;
    return parsed[root];
  } catch {
    return undefined;
  }
}

export { S3Error };
