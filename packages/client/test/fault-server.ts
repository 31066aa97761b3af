import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { listenOnLoopback } from './loopback-listener.js';

export type FaultHandler = (request: http.IncomingMessage, response: http.ServerResponse, attempt: number) => void;

/** A small real HTTP server that misbehaves on purpose; `handle` decides per attempt. */
export async function startFaultServer(handle: FaultHandler) {
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; at: number }> = [];
  const server = http.createServer((request, response) => {
    seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, at: Date.now() });
    handle(request, response, seen.length);
  });
  const { port, close } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/storage/v1`,
    seen,
    close,
  };
}

/**
 * A port whose listener never accepts and whose backlog is full, so new connections hang in
 * SYN-SENT: a real connect timeout on loopback. (Node accepts every connection it listens for,
 * so the listener is a python3 one-liner.)
 */
export async function startBlackholePort(): Promise<{ port: number; close(): void }> {
  const child: ChildProcess = spawn(
    'python3',
    [
      '-c',
      'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(120)',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = Number(await new Promise<string>((resolve) => child.stdout?.once('data', (data) => resolve(String(data).trim()))));
  const fillers = Array.from({ length: 3 }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    port,
    close() {
      for (const filler of fillers) filler.destroy();
      child.kill();
    },
  };
}

/** Sends a JSON error body the way the server does. */
export function sendError(response: http.ServerResponse, status: number, code: string, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify({ code, message: `${code} (injected)`, requestId: 'fault-1' }));
}
