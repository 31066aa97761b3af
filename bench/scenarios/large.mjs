// 1 GiB transfers, one at a time, with the server's RSS sampled from /proc during each: upload
// (curl, a single PUT; and the TS client's resumable setFile) and download (curl; and through
// nginx with read offload), Stowage against node-ceiling and nginx, the order rotated in each repetition.
import { statSync } from 'node:fs';
import path from 'node:path';
import { run } from '../procs.mjs';
import { REPO, sampleRss } from '../servers.mjs';
import { append, ratios, rotated, sleep } from '../stats.mjs';

export const LARGE_KEY = 'bench-1g';

/** One curl transfer; MB/s counts 10^6 bytes over curl's total time. */
export async function curlTransfer(ctx, url, direction) {
  const args = ['-s', '-S', '-o', '/dev/null', '-w', '%{http_code} %{size_upload} %{size_download} %{time_total}'];
  args.push('-H', `Authorization: Bearer ${ctx.token}`);
  if (direction === 'upload') args.push('-H', 'Expect:', '-T', ctx.largeFile, url);
  else args.push(url);
  const result = await run('curl', args);
  const [status, uploaded, downloaded, seconds] = result.stdout.trim().split(' ').map(Number);
  const moved = direction === 'upload' ? uploaded : downloaded;
  const ok = result.code === 0 && status >= 200 && status < 300 && moved === ctx.largeSize;
  return {
    ok,
    seconds,
    mbps: ok ? ctx.largeSize / seconds / 1e6 : Number.NaN,
    problem: ok ? '' : `HTTP ${status}, ${moved} bytes ${result.stderr.trim()}`,
  };
}

/** Storage.setFile in a fresh process (bench/latency-worker.mjs setfile). */
async function resumableUpload(ctx) {
  const out = await run(
    process.execPath,
    [path.join(REPO, 'bench/latency-worker.mjs'), 'setfile', `${LARGE_KEY}-resumable`, ctx.largeFile],
    {
      cwd: REPO,
      env: { ...process.env, BENCH_URL: ctx.stowage.url, BENCH_TOKEN: ctx.token },
    },
  );
  if (out.code !== 0) return { ok: false, mbps: Number.NaN, problem: out.stderr.trim().split('\n').slice(-3).join(' ') };
  const r = JSON.parse(out.stdout.trim().split('\n').pop());
  const ok = r.size === ctx.largeSize;
  return { ok, mbps: ok ? r.mbps : Number.NaN, problem: ok ? '' : `stored ${r.size} bytes` };
}

/** Who takes part in each direction: { name (column), server (whose RSS is sampled), transfer() }. */
function participants(ctx, direction) {
  const list = [];
  for (const server of ctx.servers) {
    let url;
    if (direction === 'upload')
      url = server.name === 'stowage' ? `${server.url}/data/set/${LARGE_KEY}` : `${server.origin}/put/large-upload`;
    else if (server.name === 'stowage') url = `${server.url}/data/get/${LARGE_KEY}`;
    else url = server.name === 'nginx' ? `${server.origin}/large.bin` : `${server.origin}/large`;
    list.push({ name: server.name, server, transfer: () => curlTransfer(ctx, url, direction) });
  }
  if (direction === 'upload') list.push({ name: 'resumable', server: ctx.stowage, transfer: () => resumableUpload(ctx) });
  // Through nginx's read offload server: Stowage answers, nginx sends the blob file.
  if (direction === 'download' && ctx.offloadOrigin) {
    const url = `${ctx.offloadOrigin}${ctx.stowage.basePath}/data/get/${LARGE_KEY}`;
    list.push({ name: 'offload', server: ctx.stowage, transfer: () => curlTransfer(ctx, url, direction) });
  }
  return list;
}

/** The references do not fsync: what they moved per second counting the untimed sync after them. */
function withSyncNote(withSync) {
  const parts = ['node', 'nginx']
    .filter((name) => withSync[name]?.length)
    .map((name) => `${name === 'node' ? 'node-ceiling' : name} ${withSync[name].map((v) => Math.round(v)).join(', ')} MB/s`);
  return parts.length
    ? `Stowage fsyncs the 1 GiB before it answers; the references do not. Counting the sync run after each of their uploads: ${parts.join('; ')}.`
    : undefined;
}

export async function runLarge(ctx) {
  ctx.largeSize = statSync(ctx.largeFile).size;
  // Download needs the object: store it once, untimed, before anything is measured.
  const seeded = await curlTransfer(ctx, `${ctx.stowage.url}/data/set/${LARGE_KEY}`, 'upload');
  if (!seeded.ok) throw new Error(`storing the 1 GiB object failed: ${seeded.problem}`);
  await run('sync', []);
  const measured = {};
  for (const direction of ['upload', 'download']) {
    const m = { values: {}, rssGrowth: {}, withSync: {}, order: [], issues: [] };
    measured[direction] = m;
    const list = participants(ctx, direction);
    for (let rep = 0; rep < ctx.largeReps; rep++) {
      m.order.push(rotated(list, rep).map((p) => p.name));
      for (const p of rotated(list, rep)) {
        const rss = sampleRss(p.server.pid);
        const transfer = await p.transfer();
        const memory = rss.stop();
        append(m.values, p.name, transfer.mbps);
        if (p.server.name !== 'nginx') append(m.rssGrowth, p.name, memory.growth);
        if (!transfer.ok) m.issues.push(`${p.name} ${direction} repetition ${rep + 1}: ${transfer.problem}`);
        ctx.log(
          `${direction} rep ${rep + 1} ${p.name}: ${Math.round(transfer.mbps)} MB/s, RSS +${(memory.growth / 2 ** 20).toFixed(1)} MiB${transfer.ok ? '' : ' FAILED'}`,
        );
        // Flush what a server without fsync left dirty in the page cache, untimed, so the next transfer does not pay for it.
        if (direction === 'upload') {
          const synced = await run('sync', []);
          if (transfer.ok && transfer.seconds) append(m.withSync, p.name, ctx.largeSize / (transfer.seconds + synced.ms / 1000) / 1e6);
        }
        await sleep(1000);
      }
    }
  }
  const pick = (m, names, rename = {}) => {
    const out = {
      values: {},
      rssGrowth: {},
      order: m.order.map((order) => order.filter((n) => names.includes(n)).map((n) => rename[n] ?? n)),
    };
    for (const name of names) {
      if (m.values[name]) out.values[rename[name] ?? name] = m.values[name];
      if (m.rssGrowth[name]) out.rssGrowth[rename[name] ?? name] = m.rssGrowth[name];
    }
    return out;
  };
  const up = measured.upload;
  const single = pick(up, ['stowage', 'node', 'nginx']);
  ctx.record({
    id: 'upload',
    figure: '1 GiB upload (curl, single PUT)',
    unit: 'MB/s',
    ref: 'node',
    ...single,
    ratio: ratios(single.values.stowage, single.values.node),
    detail: withSyncNote(up.withSync),
    issues: up.issues.filter((i) => !i.startsWith('resumable')),
  });
  // Against Stowage's own single PUT of the same file in the same run: what resuming costs.
  const resumable = pick(up, ['resumable', 'stowage'], { resumable: 'stowage', stowage: 'single-put' });
  ctx.record({
    id: 'upload-resumable',
    figure:
      '1 GiB upload (TS client setFile: upload URL, the file in one request made durable every 64 MiB, hashed as it goes), end to end',
    unit: 'MB/s',
    ref: 'single-put',
    ...resumable,
    ratio: ratios(resumable.values.stowage, resumable.values['single-put']),
    issues: up.issues.filter((i) => i.startsWith('resumable')),
  });
  const down = measured.download;
  ctx.record({
    id: 'download',
    figure: '1 GiB download (curl)',
    unit: 'MB/s',
    ref: 'nginx',
    ...pick(down, ['stowage', 'node', 'nginx']),
    ratio: ratios(down.values.stowage, down.values.nginx),
    issues: down.issues.filter((i) => !i.startsWith('offload')),
  });
  if (!ctx.offloadOrigin) {
    ctx.record({ id: 'download-offload', skipped: 'no nginx to offload to' });
    return;
  }
  const offloaded = pick(down, ['offload', 'nginx'], { offload: 'stowage' });
  ctx.record({
    id: 'download-offload',
    figure: "1 GiB download (curl) through nginx with read offload (docs/deploy.md's block: Stowage answers, nginx sends the blob file)",
    unit: 'MB/s',
    ref: 'nginx',
    ...offloaded,
    ratio: ratios(offloaded.values.stowage, offloaded.values.nginx),
    issues: down.issues.filter((i) => i.startsWith('offload')),
  });
}
