// The report: one row per performance target (figure, reference, ratio, target,
// pass/fail), printed and written as docs/BENCHMARKS.md with the machine, method and raw runs.
import { BEFORE } from './before.mjs';
import { max, median, min } from './stats.mjs';
import { WHY_MISSED } from './why-missed.mjs';

const MiB = 2 ** 20;
const NAMES = {
  stowage: 'Stowage',
  node: 'node-ceiling',
  nginx: 'nginx',
  undici: 'raw undici',
  curl: 'curl',
  sdk: 'AWS SDK → RGW',
  'sdk-multipart': 'AWS SDK multipart → RGW',
  'sdk-best': 'the faster AWS SDK upload',
  'kept-alive': 'p99 on a kept-alive connection',
  'retention-off': 'retention off',
  'tenants-64': 'the same load over 64 tenants',
  'single-put': 'Stowage single PUT (curl)',
  v1: 'Stowage v1 API',
  rgw: 'Ceph RGW',
  cp: 'cp -a + sync',
  'sdk-copy': 'AWS SDK copy of the blob files',
};

/** The performance targets, in the order of the targets table. */
/** A target of the S3 front: at least `ratio` of the v1 API (`how` it is driven), and at least Ceph RGW. */
const againstV1AndRgw = (ratio, how) => ({
  target: `≥ ${ratio}x the v1 API${how ? ` ${how}` : ''}, and ≥ Ceph RGW`,
  ratioMin: ratio,
  alsoAtLeast: { ref: 'rgw', ratio: 1 },
});

export const TARGETS = [
  {
    id: 'get',
    scenario: 'GET 1 KiB, authenticated, 32 connections',
    target: '≥ 0.7x node-ceiling req/s, p99 ≤ 5 ms',
    ratioMin: 0.7,
    p99Max: 5,
  },
  { id: 'head', scenario: 'HEAD / exists', target: '≥ 0.8x node-ceiling GET', ratioMin: 0.8 },
  {
    id: 'put-new',
    scenario: 'PUT 1 KiB new key, 32 connections, durable',
    target: '≥ 0.8x node-ceiling PUT, p99 ≤ 25 ms',
    ratioMin: 0.8,
    p99Max: 25,
  },
  { id: 'put-overwrite', scenario: 'PUT 1 KiB overwrite', target: '≥ 1.0x node-ceiling', ratioMin: 1.0 },
  { id: 'download', scenario: '1 GiB download', target: '≥ 0.8x nginx, server RSS growth ≤ 64 MiB', ratioMin: 0.8, rssMax: 64 * MiB },
  {
    id: 'download-offload',
    scenario: '1 GiB download through nginx, read offload (X-Accel-Redirect)',
    target: '≥ 0.9x nginx serving the file itself',
    ratioMin: 0.9,
  },
  {
    id: 'upload',
    scenario: '1 GiB upload, single PUT',
    target: '≥ 0.9x node-ceiling PUT, RSS growth ≤ 64 MiB',
    ratioMin: 0.9,
    rssMax: 64 * MiB,
  },
  {
    id: 'upload-resumable',
    scenario: '1 GiB upload, resumable (TS client setFile, end to end)',
    target: '≥ 0.9x Stowage’s single PUT in the same run, RSS growth ≤ 64 MiB',
    ratioMin: 0.9,
    rssMax: 64 * MiB,
  },
  { id: 'list', scenario: 'List one page of 1000 with 1,000,000 keys stored', target: 'p50 ≤ 10 ms', valueMax: 10 },
  { id: 'iterlist', scenario: 'iterList over 1,000,000 keys through the client', target: '≤ 15 s', valueMax: 15 },
  { id: 'startup', scenario: 'Server start-up with 1,000,000 keys stored', target: '≤ 2 s', valueMax: 2 },
  {
    id: 'delete-prefix',
    scenario: 'Delete by prefix of 1,000,000 keys, one request, while another client reads',
    target: '≤ 30 s',
    valueMax: 30,
  },
  {
    id: 'client-get',
    scenario: 'TS client `get` 1 KiB, sequential',
    target: '≤ 1.15x the latency of a raw undici request',
    ratioMax: 1.15,
  },
  { id: 'cli-exists', scenario: 'CLI `stowage exists KEY`, wall time', target: '≤ 0.25 s', valueMax: 0.25 },
  {
    id: 'fresh-connection',
    scenario: 'GET 1 KiB or /healthz on a new connection of another user while one user floods with 500 keep-alive connections',
    target: 'p99 ≤ 200 ms',
    valueMax: 200,
  },
  {
    id: 'retention-overwrite',
    scenario: 'PUT 1 KiB overwrite with retention on (7 days)',
    target: '≥ 0.9x retention off',
    ratioMin: 0.9,
  },
  {
    id: 'retention-delete-prefix',
    scenario: 'Delete by prefix with retention on (7 days)',
    target: '≤ 1.1x the time with retention off',
    ratioMax: 1.1,
  },
  {
    id: 'pg-one-tenant',
    scenario: 'PostgreSQL + S3, two servers: one tenant’s new 1 KiB PUTs',
    target: '≥ 0.9x the same load over 64 tenants, p99 ≤ 1.5x theirs',
    ratioMin: 0.9,
    p99RatioMax: 1.5,
  },
  {
    id: 'backup',
    scenario: '`stowage backup` to a directory while serving',
    target: 'reported against a plain copy of the same bytes',
    reported: true,
  },
  {
    id: 'pg-s3-get',
    scenario: 'PostgreSQL + S3 (Ceph RGW): GET 1 MiB, 8 concurrent',
    target: '≥ 0.7x the AWS SDK directly to the store, server RSS growth ≤ 64 MiB',
    ratioMin: 0.7,
    rssMax: 64 * MiB,
  },
  {
    id: 'pg-s3-get-redirect',
    scenario: 'PostgreSQL + S3 (Ceph RGW): GET 1 MiB, 8 concurrent, read offload by redirect',
    target: '≥ 0.9x the AWS SDK directly to the store',
    ratioMin: 0.9,
  },
  {
    id: 's3-get',
    scenario: 'S3 API: GetObject 1 KiB, 16 concurrent (presigned URL, undici), embedded',
    ...againstV1AndRgw(0.8),
  },
  {
    id: 's3-put',
    scenario: 'S3 API: PutObject 1 KiB overwrite, 16 concurrent (presigned URL, undici), embedded, durable',
    ...againstV1AndRgw(0.8),
  },
  {
    id: 's3-complete',
    scenario: 'S3 API: CompleteMultipartUpload of a 10 GiB upload (1,280 parts), embedded, durable',
    target: '≤ 1 s',
    valueMax: 1,
  },
  {
    id: 's3-upload',
    scenario: 'S3 API: upload 1 GiB with aws s3 cp (multipart), embedded, durable',
    ...againstV1AndRgw(0.9, '(curl)'),
  },
  {
    id: 's3-download',
    scenario: 'S3 API: download 1 GiB with aws s3 cp, embedded',
    ...againstV1AndRgw(0.9, '(curl)'),
  },
  {
    id: 'pg-s3-upload',
    scenario: 'PostgreSQL + S3 (Ceph RGW): upload 1 GiB',
    target: '≥ 0.7x the AWS SDK directly to the store',
    ratioMin: 0.7,
  },
  {
    id: 'pg-s3-resumable',
    scenario: 'PostgreSQL + S3 (Ceph RGW): upload 1 GiB, resumable (TS client setFile)',
    target: '≥ 0.9x Stowage’s single PUT in the same run',
    ratioMin: 0.9,
  },
  {
    id: 'migrate',
    scenario: '`stowage migrate` of a data directory into PostgreSQL + S3 (Ceph RGW)',
    target: 'reported against a plain copy of the same bytes',
    reported: true,
  },
];

export function formatValue(value, unit) {
  if (!Number.isFinite(value)) return '—';
  switch (unit) {
    case 'req/s':
      return value >= 1000 ? `${(value / 1000).toFixed(1)}k` : value.toFixed(0);
    case 'MB/s':
      return Math.round(value).toLocaleString('en-US');
    case 'ms':
      return value < 10 ? value.toFixed(2) : value.toFixed(1);
    case 's':
      return value < 1 ? value.toFixed(3) : value.toFixed(2);
    case 'µs':
    case 'B':
      return Math.round(value).toLocaleString('en-US');
    case 'MiB':
      return (value / MiB).toFixed(1);
    default:
      return String(value);
  }
}

/** "median (min–max) unit", or just the value for one repetition. */
export function spread(values = [], unit) {
  const valid = values.filter(Number.isFinite);
  if (valid.length === 0) return '—';
  const mid = formatValue(median(valid), unit);
  if (valid.length === 1) return `${mid} ${unit}`;
  return `${mid} (${formatValue(min(valid), unit)}–${formatValue(max(valid), unit)}) ${unit}`;
}

function ratioText(values = [], ref) {
  const valid = values.filter(Number.isFinite);
  if (valid.length === 0) return '—';
  const m = median(valid).toFixed(2);
  const range = valid.length > 1 ? ` (${min(valid).toFixed(2)}–${max(valid).toFixed(2)})` : '';
  return `${m}x${range} of ${NAMES[ref] ?? ref}`;
}

/** One table row for a target: { scenario, stowage, references, ratio, target, verdict, notes[] }. */
export function evaluate(target, result) {
  const row = { scenario: target.scenario, stowage: '', references: '', ratio: '', target: target.target, verdict: '', notes: [] };
  if (!result) {
    row.verdict = 'not run';
    return row;
  }
  if (result.skipped) {
    row.verdict = 'not measured';
    row.notes.push(result.skipped);
    return row;
  }
  const own = result.values.stowage ?? [];
  const valid = own.filter(Number.isFinite);
  row.stowage = spread(own, result.unit);
  if (result.p99Ms?.stowage) row.stowage += `, p99 ${spread(result.p99Ms.stowage, 'ms')}`;
  if (result.rssGrowth?.stowage) row.stowage += `, RSS +${spread(result.rssGrowth.stowage, 'MiB')}`;
  row.references = Object.entries(result.values)
    .filter(([name]) => name !== 'stowage')
    .map(([name, values]) => `${NAMES[name] ?? name} ${spread(values, result.unit)}`)
    .join('; ');
  if (result.ref) row.ratio = ratioText(result.ratio, result.ref);
  if (result.detail) row.notes.push(result.detail);
  row.notes.push(...result.issues);

  const checks = [];
  const ratio = median((result.ratio ?? []).filter(Number.isFinite));
  if (target.ratioMin !== undefined) checks.push(ratio >= target.ratioMin);
  if (target.ratioMax !== undefined) checks.push(ratio <= target.ratioMax);
  if (target.p99Max !== undefined) checks.push(median(result.p99Ms?.stowage ?? []) <= target.p99Max);
  if (target.p99RatioMax !== undefined)
    checks.push(median(result.p99Ms?.stowage ?? []) <= target.p99RatioMax * median(result.p99Ms?.[result.ref] ?? []));
  if (target.rssMax !== undefined) checks.push(max(result.rssGrowth?.stowage ?? []) <= target.rssMax);
  if (target.alsoAtLeast !== undefined) {
    // A second reference the row must reach too: medians against medians.
    const { ref, ratio: least } = target.alsoAtLeast;
    const second = median(own.filter(Number.isFinite)) / median((result.values[ref] ?? []).filter(Number.isFinite));
    checks.push(second >= least);
    if (Number.isFinite(second)) row.ratio = `${row.ratio ?? ''}; ${second.toFixed(2)}x of ${NAMES[ref] ?? ref}`;
  }
  if (target.valueMax !== undefined) checks.push(median(valid) <= target.valueMax);
  const measured = valid.length > 0 && ((target.ratioMin === undefined && target.ratioMax === undefined) || Number.isFinite(ratio));
  if (!measured) row.verdict = valid.length === 0 ? 'invalid (no valid run)' : 'no reference';
  else if (target.reported) row.verdict = 'measured';
  else row.verdict = checks.every(Boolean) ? 'pass' : 'FAIL';
  if (measured && valid.length < own.length) row.verdict += ` (${valid.length} of ${own.length} runs valid)`;
  if (result.scaled !== undefined && result.scaled < 1_000_000 && measured) {
    row.verdict += '*';
    row.notes.push(`Measured with ${result.scaled.toLocaleString('en-US')} keys; the target is for 1,000,000.`);
  }
  if (result.asterisk && measured) {
    row.verdict += '*';
    row.notes.push(result.asterisk);
  }
  if (row.verdict.startsWith('FAIL') && WHY_MISSED[target.id]) row.notes.push(WHY_MISSED[target.id]);
  return row;
}

function cell(text) {
  return String(text || '').replaceAll('|', '\\|');
}

/** The results table in Markdown, plus numbered notes. */
export function resultsTable(results) {
  const byId = new Map(results.map((r) => [r.id, r]));
  const lines = [
    `| scenario | Stowage (median, min–max) | reference (same run) | Stowage ÷ reference | before (${BEFORE.commit}) | target | result |`,
    '|---|---|---|---|---|---|---|',
  ];
  const notes = [];
  for (const target of TARGETS) {
    const row = evaluate(target, byId.get(target.id));
    const marks = row.notes.map((note) => {
      if (!notes.includes(note)) notes.push(note);
      return `[${notes.indexOf(note) + 1}]`;
    });
    lines.push(
      `| ${[row.scenario, row.stowage, row.references, row.ratio, BEFORE.figures[target.id] ?? '', row.target, `${row.verdict}${marks.length ? ` ${marks.join('')}` : ''}`].map(cell).join(' | ')} |`,
    );
  }
  for (const info of results.filter((r) => r.info)) {
    lines.push(`| ${cell(info.figure)} | ${cell(spread(info.values.stowage, info.unit))} | | | | (no target) | |`);
  }
  return { table: lines.join('\n'), notes };
}

/** Every run as measured: per repetition, the servers in the order they ran. */
export function rawRuns(results) {
  const lines = [];
  for (const result of results) {
    if (result.skipped || result.info) continue;
    lines.push(`- ${result.figure} (${result.unit}):`);
    const names = Object.keys(result.values);
    const reps = Math.max(...names.map((name) => result.values[name].length));
    for (let rep = 0; rep < reps; rep++) {
      const order = result.order?.[rep] ?? names;
      const runs = order.map((name) => {
        const extra = [];
        if (result.p99Ms?.[name]) extra.push(`p99 ${formatValue(result.p99Ms[name][rep], 'ms')} ms`);
        if (result.rssGrowth?.[name]) extra.push(`RSS +${formatValue(result.rssGrowth[name][rep], 'MiB')} MiB`);
        return `${NAMES[name] ?? name} ${formatValue(result.values[name]?.[rep], result.unit)}${extra.length ? ` (${extra.join(', ')})` : ''}`;
      });
      lines.push(`  - repetition ${rep + 1}: ${runs.join(' → ')}`);
    }
  }
  return lines.join('\n');
}
