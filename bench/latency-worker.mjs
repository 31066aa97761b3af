#!/usr/bin/env node
// Sequential latency probes, each in a fresh process so the harness's own state does not weigh
// on them. Prints one JSON line. Environment: BENCH_URL (…/storage/v1), BENCH_TOKEN.
//   client-get KEY N   the TS client's get() against a raw undici request of the same URL, in
//                      alternating blocks of 100 after a warm-up; latencies in µs
//   list COUNT N       GET /data/list of one page of 1000 (prefix ds/NNNN of bench/dataset.mjs keys)
//   iterlist COUNT     Storage.iterList('ds/') over every key, timed
//   delete-prefix COUNT  POST /data/delete_prefix?prefix=ds/ (every data set key), timed, while
//                      a second loop GETs another key: how many reads it served and their p99
//   setfile KEY FILE   Storage.setFile (resumable upload URL, the file in one request made durable
//                      piece by piece, then the completing query): seconds end to end
//   fresh-connection KEY SECONDS  for SECONDS, in turn: a GET of KEY on a new connection, a GET of
//                      /healthz on a new connection, a GET of KEY on one kept-alive connection;
//                      the time until each answer is read whole, whatever its status, in ms
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Auth, Storage } from 'stowage-client';
import { Agent, request } from 'undici';

const [mode, ...args] = process.argv.slice(2);
const url = process.env.BENCH_URL;
const token = process.env.BENCH_TOKEN;
const authorization = `Bearer ${token}`;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function quantile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

async function timed(fn) {
  const start = performance.now();
  await fn();
  return (performance.now() - start) * 1000;
}

async function clientGet(key, n) {
  const storage = new Storage({ url, auth: new Auth({ token }) });
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const target = `${url}/data/get/${encodeURIComponent(key)}`;
  const viaClient = async () => {
    const value = await storage.get(key);
    if (value.length !== 1024) throw new Error(`client got ${value.length} bytes`);
  };
  const viaUndici = async () => {
    const { statusCode, body } = await request(target, { dispatcher: agent, headers: { authorization } });
    const value = await body.text();
    if (statusCode !== 200 || value.length !== 1024) throw new Error(`undici got ${statusCode}, ${value.length} bytes`);
  };
  for (let i = 0; i < 300; i++) {
    await viaClient();
    await viaUndici();
  }
  const client = [];
  const undici = [];
  for (let done = 0; done < n; done += 100) {
    for (let i = 0; i < 100; i++) client.push(await timed(viaClient));
    for (let i = 0; i < 100; i++) undici.push(await timed(viaUndici));
  }
  await storage.close();
  await agent.close();
  return {
    clientMedianUs: median(client),
    undiciMedianUs: median(undici),
    clientP99Us: quantile(client, 0.99),
    undiciP99Us: quantile(undici, 0.99),
    n: client.length,
  };
}

async function list(count, n) {
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const pages = Math.max(1, Math.floor(count / 1000));
  let seed = 12345;
  const nextPage = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % pages;
  };
  const once = async () => {
    const prefix = `ds/${String(nextPage()).padStart(4, '0')}`;
    const { statusCode, body } = await request(`${url}/data/list?prefix=${encodeURIComponent(prefix)}`, {
      dispatcher: agent,
      headers: { authorization },
    });
    const keys = await body.json();
    if (statusCode !== 200 || keys.length !== Math.min(1000, count)) throw new Error(`list ${prefix}: ${statusCode}, ${keys.length} keys`);
  };
  for (let i = 0; i < 20; i++) await once();
  const latencies = [];
  for (let i = 0; i < n; i++) latencies.push(await timed(once));
  await agent.close();
  return { p50Ms: median(latencies) / 1000, p99Ms: quantile(latencies, 0.99) / 1000, n };
}

async function iterList(count) {
  const storage = new Storage({ url, auth: new Auth({ token }) });
  const start = performance.now();
  let keys = 0;
  for await (const _key of storage.iterList('ds/')) keys++;
  const seconds = (performance.now() - start) / 1000;
  await storage.close();
  if (keys !== count) throw new Error(`iterList saw ${keys} keys, expected ${count}`);
  return { seconds, keys };
}

async function setFile(key, file) {
  const storage = new Storage({ url, auth: new Auth({ token }) });
  const start = performance.now();
  const info = await storage.setFile(key, file);
  const seconds = (performance.now() - start) / 1000;
  await storage.close();
  return { seconds, size: info.size, mbps: info.size / seconds / 1e6 };
}

async function deletePrefix(count) {
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const other = `${url}/data/get/other`;
  const stored = await request(`${url}/data/set/other`, {
    method: 'PUT',
    body: 'x'.repeat(1024),
    dispatcher: agent,
    headers: { authorization },
  });
  await stored.body.text();
  let deleting = true;
  const reads = [];
  const reader = (async () => {
    while (deleting) {
      reads.push(
        await timed(async () => {
          const { statusCode, body } = await request(other, { dispatcher: agent, headers: { authorization } });
          await body.text();
          if (statusCode !== 200) throw new Error(`a read during the delete got ${statusCode}`);
        }),
      );
    }
  })();
  const start = performance.now();
  const { statusCode, body } = await request(`${url}/data/delete_prefix?prefix=ds%2F`, {
    method: 'POST',
    dispatcher: agent,
    headers: { authorization },
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
  });
  const answer = await body.json();
  const seconds = (performance.now() - start) / 1000;
  deleting = false;
  await reader;
  await agent.close();
  if (statusCode !== 200 || answer.deleted !== count) throw new Error(`delete_prefix answered ${statusCode} ${JSON.stringify(answer)}`);
  return { seconds, deleted: answer.deleted, reads: reads.length, readP99Ms: quantile(reads, 0.99) / 1000 };
}

/** GET `target` on `agent` (false: a connection of its own); resolves with the status once the body is read. */
function httpGet(target, agent) {
  return new Promise((resolve, reject) => {
    const call = http.get(target, { agent, headers: { authorization } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
      response.on('error', reject);
    });
    call.on('error', reject);
    call.setTimeout(30_000, () => call.destroy(new Error('no answer within 30 s')));
  });
}

async function freshConnection(key, seconds) {
  const object = `${url}/data/get/${encodeURIComponent(key)}`;
  const healthz = `${new URL(url).origin}/healthz`;
  const kept = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const probes = [
    { name: 'fresh', target: object, agent: false },
    { name: 'healthz', target: healthz, agent: false },
    { name: 'kept', target: object, agent: kept },
  ];
  const latencies = { fresh: [], healthz: [], kept: [] };
  const statuses = {};
  // The kept-alive connection is opened before the clock starts: only its later requests are timed.
  await httpGet(object, kept);
  const deadline = performance.now() + seconds * 1000;
  for (let turn = 0; performance.now() < deadline; turn++) {
    const probe = probes[turn % probes.length];
    let status;
    latencies[probe.name].push(
      (await timed(async () => {
        status = await httpGet(probe.target, probe.agent);
      })) / 1000,
    );
    statuses[status] = (statuses[status] ?? 0) + 1;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  kept.destroy();
  const newConnections = [...latencies.fresh, ...latencies.healthz];
  return {
    freshP50Ms: median(newConnections),
    freshP99Ms: quantile(newConnections, 0.99),
    freshMaxMs: Math.max(...newConnections),
    healthzP99Ms: quantile(latencies.healthz, 0.99),
    keptP99Ms: quantile(latencies.kept, 0.99),
    n: newConnections.length,
    statuses,
  };
}

let result;
if (mode === 'client-get') result = await clientGet(args[0], Number(args[1]));
else if (mode === 'list') result = await list(Number(args[0]), Number(args[1]));
else if (mode === 'iterlist') result = await iterList(Number(args[0]));
else if (mode === 'setfile') result = await setFile(args[0], args[1]);
else if (mode === 'delete-prefix') result = await deletePrefix(Number(args[0]));
else if (mode === 'fresh-connection') result = await freshConnection(args[0], Number(args[1]));
else throw new Error(`unknown mode ${mode}`);
process.stdout.write(`${JSON.stringify(result)}\n`);
