/** Parses an If-Match / If-None-Match list: `*`, or quoted ETags (weak prefixes dropped). */
export function parseEtagList(header: string | undefined): string[] | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return ['*'];
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .filter((tag) => tag !== '')
    .map((tag) => (tag.startsWith('"') ? tag : `"${tag}"`));
}
