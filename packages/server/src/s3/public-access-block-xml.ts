import type { PublicAccessBlock } from '../storage/bucket-model.js';
import { s3Errors } from './errors.js';
import { xmlRoot } from './xml.js';
import { childrenOf, onlyChildren, optionalText } from './xml-fields.js';

/** S3's PublicAccessBlockConfiguration (PutPublicAccessBlock bodies, GetPublicAccessBlock answers). */

const FIELDS = [
  ['BlockPublicAcls', 'blockPublicAcls'],
  ['IgnorePublicAcls', 'ignorePublicAcls'],
  ['BlockPublicPolicy', 'blockPublicPolicy'],
  ['RestrictPublicBuckets', 'restrictPublicBuckets'],
] as const satisfies readonly (readonly [string, keyof PublicAccessBlock])[];

/** A PutPublicAccessBlock body; a setting left out is false, as S3 has it. MalformedXML for anything else. */
export function parsePublicAccessBlock(text: string): PublicAccessBlock {
  const root = childrenOf(xmlRoot(text, 'PublicAccessBlockConfiguration'), s3Errors.malformedXml);
  onlyChildren(
    root,
    FIELDS.map(([element]) => element),
    s3Errors.malformedXml,
  );
  const block: Record<keyof PublicAccessBlock, boolean> = {
    blockPublicAcls: false,
    ignorePublicAcls: false,
    blockPublicPolicy: false,
    restrictPublicBuckets: false,
  };
  for (const [element, field] of FIELDS) block[field] = parseBoolean(optionalText(root[element], s3Errors.malformedXml));
  return block;
}

/** GetPublicAccessBlock's PublicAccessBlockConfiguration (for sendXml), every setting named. */
export function publicAccessBlockBody(block: PublicAccessBlock): Record<string, unknown> {
  return Object.fromEntries(FIELDS.map(([element, field]) => [element, block[field]]));
}

/** An xs:boolean (true, false, 1, 0); absent is false. */
function parseBoolean(text: string | undefined): boolean {
  if (text === undefined) return false;
  const value = text.trim();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw s3Errors.malformedXml();
}
