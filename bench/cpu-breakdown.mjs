// Where a server's CPU goes per request, from a V8 CPU profile (node --cpu-prof) taken under a
// steady load of one kind of request: each sample is given to the stage of the innermost frame
// that names one (the socket write inside the response's end is the socket's, the header
// validation inside writeHead the headers'), and a stage's time divided by the requests served
// is its cost per request in µs. The profiler's own overhead inflates every stage alike.
import { readFileSync } from 'node:fs';

/** Stages in the order the report lists them; `match` sees a frame's function name and script URL. */
const STAGES = [
  [
    'socket write',
    (f, u) =>
      /^(writev|writevGeneric|writeBuffer|writeUtf8String|writeLatin1String|createWriteWrap)$/.test(f) ||
      u === 'node:internal/stream_base_commons',
  ],
  ['HTTP parsing', (_f, u) => u === 'node:_http_common' || u === 'node:_http_incoming'],
  [
    'response headers',
    (_f, u) => u === 'node:_http_outgoing' || /\/(send-object|object-facts|object-attributes|inert-content)\.js$/.test(u),
  ],
  ['authentication', (_f, u) => /\/auth\/|\/authenticate\.js$/.test(u)],
  ['authorization', (_f, u) => /\/storage\/(access|authorizer|bucket-model)\.js$|\/authorizer\.js$/.test(u)],
  ['lookup', (_f, u) => /\/backends\/|\/storage\/object-service\.js$|better-sqlite3|\/pg\/|pg-protocol|pg-pool/.test(u)],
  ['admission', (_f, u) => /\/(admission|tenant-slots)\.js$/.test(u)],
  ['request id', (_f, u) => /\/request-id\.js$/.test(u)],
  ['metrics', (_f, u) => /prom-client/.test(u)],
  ['logging', (_f, u) => /\/pino/.test(u)],
  ['routing', (_f, u) => /\/(fast-read|request-key|http-server)\.js$|find-my-way/.test(u)],
  ['framework (Fastify)', (_f, u) => /\/fastify\/|\/avvio\/|light-my-request/.test(u)],
  ['garbage collection', (f) => f === '(garbage collector)'],
];

/**
 * { stages: [{ stage, us }], busyUs, requests } per request from the profile at `file`; time the
 * profile shows idle is left out, and what no stage names is `other (Node's HTTP server, promises)`.
 */
export function cpuBreakdown(file, requests) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stageOf = new Map();
  const classify = (id) => {
    if (stageOf.has(id)) return stageOf.get(id);
    const { functionName, url } = nodes.get(id).callFrame;
    let stage;
    if (functionName === '(idle)' || functionName === '(program)') stage = functionName;
    else {
      stage = STAGES.find(([, match]) => match(functionName, url))?.[0];
      if (!stage) {
        const up = parent.get(id);
        stage = up === undefined ? 'other' : classify(up);
      }
    }
    stageOf.set(id, stage);
    return stage;
  };
  const totals = new Map();
  profile.samples.forEach((id, i) => {
    const stage = classify(id);
    totals.set(stage, (totals.get(stage) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  totals.delete('(idle)');
  // V8's "(program)" is native work outside JavaScript (the event loop, libuv): Node's.
  const other = (totals.get('other') ?? 0) + (totals.get('(program)') ?? 0);
  totals.delete('(program)');
  totals.set('other', other);
  const names = [...STAGES.map(([name]) => name), 'other'];
  const stages = names.map((stage) => ({ stage, us: (totals.get(stage) ?? 0) / requests })).filter((s) => s.us >= 0.05);
  return { stages, busyUs: stages.reduce((sum, s) => sum + s.us, 0), requests };
}

/** "socket write 8.1, HTTP parsing 1.2, …" µs per request, and the total. */
export function describeBreakdown({ stages, busyUs }) {
  return `${stages.map((s) => `${s.stage} ${s.us.toFixed(1)}`).join(', ')}; ${busyUs.toFixed(1)} µs in all`;
}
