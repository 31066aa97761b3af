/** The `Range` header a 308 (or a 409) carries: the bytes the server holds of an upload. */
export function rangeHeader(received: number): Record<string, string> {
  return received > 0 ? { range: `bytes=0-${received - 1}` } : {};
}
