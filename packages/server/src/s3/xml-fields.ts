/**
 * Readers of a parsed XML element (xml.ts's parser) for the request bodies of bucket settings.
 * The parser keeps text as sent (trimValues off, so keys and prefixes keep their spaces), which
 * also keeps the indentation between elements as `#text`: whitespace there is dropped, any
 * other text beside elements refused. Each reader takes the error its body answers with.
 */

type Fail = () => Error;

/** An element's child elements by name; an empty element (`<Filter/>`) has none. Attributes (`@_…`) are left out. */
export function childrenOf(value: unknown, fail: Fail): Record<string, unknown> {
  if (typeof value === 'string') {
    if (value.trim() !== '') throw fail();
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail();
  const children: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(value)) {
    if (name.startsWith('@_')) continue;
    if (name === '#text') {
      if (typeof child !== 'string' || child.trim() !== '') throw fail();
      continue;
    }
    children[name] = child;
  }
  return children;
}

/** Refuses a child element other than `allowed`. */
export function onlyChildren(children: Record<string, unknown>, allowed: readonly string[], fail: Fail): void {
  for (const name of Object.keys(children)) if (!allowed.includes(name)) throw fail();
}

/** An element that may repeat: the parser gives one as a value, several as an array. */
export function listOf(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The text of an element that may appear once, as sent; undefined when absent. */
export function optionalText(value: unknown, fail: Fail): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw fail();
  return value;
}

/** The text of an element that must appear once. */
export function requiredText(value: unknown, fail: Fail): string {
  const text = optionalText(value, fail);
  if (text === undefined) throw fail();
  return text;
}
