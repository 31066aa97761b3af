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
  const upCuts = [...(plan.upload ?? [])];
  const downCuts = [...(plan.download ?? [])];
  let up = 0;
  let down = 0;
  const stats = { cuts: 0, connections: 0 };
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
    const forward = (from: net.Socket, to: net.Socket, count: (n: number) => boolean) => {
      from.on('data', (chunk: Buffer) => {
        if (count(chunk.length)) return cut();
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
    };
    forward(client, upstream, (n) => {
      up += n;
      if (upCuts.length > 0 && up >= (upCuts[0] as number)) {
        upCuts.shift();
        return true;
      }
      return false;
    });
    forward(upstream, client, (n) => {
      down += n;
      if (downCuts.length > 0 && down >= (downCuts[0] as number)) {
        downCuts.shift();
        return true;
      }
      return false;
    });
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
