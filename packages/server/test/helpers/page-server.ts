import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PageFile {
  type: string;
  body: string;
}

/** Answers a path the files do not have (an app's own API), or undefined for a 404. */
export type Route = (url: URL) => Promise<PageFile | undefined>;

/**
 * Serves a browser test's pages and scripts on a port of its own, under another host name than
 * the servers they talk to (localhost, not 127.0.0.1): another origin, as an app's pages are.
 */
export async function startPageServer(files: Record<string, PageFile>, api: Route = async () => undefined) {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const answer = files[url.pathname] ? Promise.resolve(files[url.pathname]) : api(url);
    answer.then(
      (found) => (found ? response.writeHead(200, { 'content-type': found.type }).end(found.body) : response.writeHead(404).end()),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://localhost:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
