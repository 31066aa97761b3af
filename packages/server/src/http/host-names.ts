/**
 * Which Host a URL the server hands out may name when no public URL is set. The Host header is
 * whatever the client wrote: taken as is, a request with `Host: evil.example` would get a signed
 * or upload URL that sends its bytes (and, for an upload URL, the right to write) to that host.
 * So a Host is kept only when it names this listener: the address the connection arrived on, the
 * host the server listens on, the loopback names when the connection is a loopback one (each on
 * the port the connection arrived on), or a name the operator listed in STOWAGE_ALLOWED_HOSTS.
 * Anything else gets the address the connection arrived on.
 */

/** A host name, an IPv4 address or a bracketed IPv6 address, with an optional port. */
const HOST_AND_PORT = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?$/;
/** The addresses `host` may name that are every interface, not a name clients can use. */
const WILDCARDS = new Set(['0.0.0.0', '[::]', '']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export interface HostAndPort {
  /** Lower case; an IPv6 address in brackets. */
  readonly name: string;
  /** Undefined when none was written (the scheme's default). */
  readonly port: number | undefined;
}

/** `name[:port]` (a Host header, an entry of STOWAGE_ALLOWED_HOSTS), or undefined when it is not one. */
export function parseHostAndPort(value: string): HostAndPort | undefined {
  const match = HOST_AND_PORT.exec(value.trim().toLowerCase());
  if (!match?.[1]) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65535) return undefined;
  return { name: match[1], port };
}

/** An address as a URL writes it: IPv6 in brackets, an IPv4-mapped IPv6 address as IPv4, no zone. */
export function addressInUrl(address: string): string {
  const plain = address.replace(/%.*$/, '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(plain);
  if (mapped?.[1]) return mapped[1];
  return plain.includes(':') ? `[${plain}]` : plain;
}

function isLoopback(urlAddress: string): boolean {
  return urlAddress.startsWith('127.') || urlAddress === '[::1]';
}

export interface Listener {
  /** The server's STOWAGE_HOST. */
  readonly host: string;
  /** The local address and port of the connection the request came on. */
  readonly address: string;
  readonly port: number;
  /** STOWAGE_ALLOWED_HOSTS, parsed. */
  readonly allowedHosts: readonly HostAndPort[];
}

/** `host[:port]` for a URL: the Host the client sent when it names this listener, else the address it arrived on. */
export function trustedHost(hostHeader: string | undefined, listener: Listener): string {
  const arrived = addressInUrl(listener.address);
  const fallback = `${arrived}:${listener.port}`;
  const sent = hostHeader === undefined ? undefined : parseHostAndPort(hostHeader);
  if (!sent) return fallback;
  const asSent = sent.port === undefined ? sent.name : `${sent.name}:${sent.port}`;
  // The scheme's default port when none is written: these URLs are http unless a trusted proxy says otherwise.
  const port = sent.port ?? 80;
  const listed = listener.allowedHosts.some((entry) => entry.name === sent.name && (entry.port === undefined || entry.port === port));
  if (listed) return asSent;
  if (port !== listener.port) return fallback;
  const own = [arrived, addressInUrl(listener.host), ...(isLoopback(arrived) ? LOOPBACK_NAMES : [])];
  return own.includes(sent.name) && !WILDCARDS.has(sent.name) ? asSent : fallback;
}

/** Whether STOWAGE_HOST lets other machines connect (every interface, or an address or name not of loopback). */
export function listensBeyondLoopback(host: string): boolean {
  const address = addressInUrl(host);
  return !(isLoopback(address) || address === 'localhost');
}
