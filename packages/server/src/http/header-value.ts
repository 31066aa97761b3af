/** A header's value as one string: Node gives a repeated header as a list, joined here as RFC 9110 §5.3 allows. */
export function joinedHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
