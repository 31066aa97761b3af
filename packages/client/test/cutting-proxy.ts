import net from 'node:net';

export interface CutPlan {
  /** Cut the connection carrying client→server bytes when the running total passes each of these. */
  upload?: number[];
  /** Cut the connection carrying server→client bytes when the running total passes each of these. */
  download?: number[];
  /** Called at each cut. */
  onCut?: () => void;
}

/**
 * A real TCP proxy in front of a server that drops connections at chosen points of the byte
 * stream, in either direction: what a flaky network does to a long transfer.
 */
export async function startCuttingProxy(targetUrl: string, plan: CutPlan) {
  const target = new URL(targetUrl);
  const stats = { cuts: 0, connections: 0, uploadedBytes: 0, putRequests: 0 };
  const cutUpward = cutAfter(plan.upload);
  const upward = (chunk: Buffer) => {
    stats.uploadedBytes += chunk.length;
    // Request lines that a chunk holds whole (one split between two chunks is not counted).
    stats.putRequests += chunk.toString('latin1').match(PUT_REQUEST_LINE)?.length ?? 0;
    return cutUpward(chunk.length);
  };
  const downwardBytes = cutAfter(plan.download);
  const downward = (chunk: Buffer) => downwardBytes(chunk.length);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    stats.connections++;
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    const cut = () => {
      stats.cuts++;
      client.destroy();
      upstream.destroy();
      plan.onCut?.();
    };
    const forward = (from: net.Socket, to: net.Socket, count: (chunk: Buffer) => boolean) => {
      from.on('data', (chunk: Buffer) => {
        if (count(chunk)) return cut();
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
    };
    forward(client, upstream, upward);
    forward(upstream, client, downward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    stats,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

const PUT_REQUEST_LINE = /(?:^|\n)PUT \/\S* HTTP\/1\.1\r\n/g;

/** Counts bytes in one direction (across connections) and says when the next cut point is passed. */
function cutAfter(thresholds: number[] = []): (bytes: number) => boolean {
  const pending = [...thresholds];
  let total = 0;
  return (bytes) => {
    total += bytes;
    if (pending.length === 0 || total < (pending[0] as number)) return false;
    pending.shift();
    return true;
  };
}
