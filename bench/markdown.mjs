// docs/BENCHMARKS.md: the table of one run, with the machine, how to run and the method.
import { writeFileSync } from 'node:fs';
import { BEFORE } from './before.mjs';
import { rawRuns } from './report.mjs';

export function writeMarkdown(file, { ctx, table, notes }) {
  const m = ctx.machine;
  const flags = [ctx.quick && '--quick', ctx.only && `--only ${ctx.only.join(',')}`].filter(Boolean).join(' ');
  const mode = `\`npm run bench${flags ? ` -- ${flags}` : ''}\`: ${ctx.reps} repetition${ctx.reps === 1 ? '' : 's'}, ${ctx.seconds} s per wrk run, ${ctx.datasetKeys.toLocaleString('en-US')} keys in the data set`;
  const dataset = ctx.dataset
    ? `The data set was loaded in ${ctx.dataset.seconds.toFixed(1)} s (${(ctx.dataset.indexBytes / 2 ** 20).toFixed(0)} MiB of index).`
    : '';
  const text = `# Benchmarks

Stowage side by side with references started by the same run: \`bench/node-ceiling.mjs\` (a bare
\`node:http\` server: the most a Node server does here) and nginx (the C reference). Every target
is a ratio to a reference measured in the same run, or an absolute bound. The numbers below are
as measured by ${mode}; the run took ${ctx.minutes.toFixed(1)} minutes.

- Machine: ${m.cpu}; ${m.kernel}; Node ${m.node}; ${m.tools}; load average ${m.load} at the start, ${m.loadEnd} at the end
- Date: ${m.date}; code: ${m.commit}

${table}

${[...notes.map((note, i) => `- [${i + 1}] ${note}`), ...ctx.skipped.map((line) => `- Skipped: ${line}`)].join('\n')}

${
  m.busy
    ? `The machine was busy when this run started (1-minute load average ${m.load.split(' ')[0]} on ${m.cores} cores): other work shows in these numbers.\n\n`
    : ''
}This machine is noisy: absolute numbers drift 2-3x between runs, and 1 GiB transfers vary most.
Read the ratios, which compare servers measured seconds apart, and the min–max spread.${
    ctx.reps === 1
      ? ' A quick run has one repetition, so it shows no spread: take its verdicts as indicative and confirm a close one with `npm run bench`.'
      : ''
  }

### Every run

Per repetition, the servers in the order they ran (rotated from one repetition to the next).
${dataset}

${rawRuns(ctx.results)}

## How to run

\`\`\`sh
npm run bench              # full: 3 repetitions, 10 s per wrk run, 1,000,000 keys (roughly 15-20 minutes)
npm run bench -- --quick   # 1 repetition, 5 s per wrk run, 100,000 keys (about 4 minutes)
node bench/run.mjs --quick --out /tmp/bench.md   # without the build, written elsewhere
# also: --reps N (repetitions), --seconds N (length of a wrk run), --keys N (data set size),
#   --only head,pg-s3-get,pg-s3-upload (just these rows: ids of the targets table, or footprint),
#   --no-scale-out (skip PostgreSQL + S3), --scale-out (fail rather than skip when its services do not start),
#   --scale-out-mib N (a smaller upload for PostgreSQL + S3, marked * in the table)
node bench/run.mjs --render docs/BENCHMARKS.json   # this report again from the run's saved data
\`\`\`

The "before" column is the same row measured before the optimisations the notes describe
(\`npm run bench -- --quick\` at commit ${BEFORE.commit}, idle machine; * there: 100,000 keys). A
row that fails gets a note with where its time goes, as profiled, and what would close the gap
(\`bench/why-missed.mjs\`).

It needs curl and, for the small-request scenarios, \`wrk\` (Debian package \`wrk\`: installed with
\`apt-get install -y wrk\` when the benchmark runs as root and it is missing, otherwise those
scenarios are skipped). The nginx reference needs Debian's \`nginx-light\` or \`nginx\` (both have
the WebDAV module); without it the nginx columns are skipped. HEAD needs ApacheBench \`ab\`
(Debian package \`apache2-utils\`, installed like wrk when missing; wrk cannot send HEAD), else it
is reported as not measured. The PostgreSQL + S3 rows start PostgreSQL 15 and a Ceph RGW with
\`scripts/services/postgres-start.sh\` and \`rgw-start.sh\` (Debian packages, installed by those
scripts as root; about 10 s to start, about 2 GiB of RAM for RGW's in-memory OSD during the 1 GiB
uploads); when they cannot start, those rows are skipped with the reason. Everything listens on
127.0.0.1 only, runs in a temp dir, and is stopped and removed at the end, also on Ctrl-C. Other work on the machine shows in the numbers:
run it on an otherwise idle machine. \`bench/dataset.mjs\` also runs alone (\`--data-dir DIR
--count N\`) to fill a stopped data directory.

## Method

- **Servers.** Stowage is started as users start it, \`stowage serve --port 0 --data-dir <tmp>
  --log-level warn\` (durability \`full\`, the default: fsync before acknowledging), with a token
  from \`stowage token --user bench\`. node-ceiling answers GET with a fixed 1 KiB buffer, writes
  each PUT body into its own file (no fsync) and streams a stored 1 GiB file (1 MiB reads).
  nginx (one worker, \`bench/nginx.conf\`) serves a 1 KiB and a 1 GiB file with sendfile and
  takes PUT through WebDAV (\`dav_methods PUT\`, \`client_max_body_size 0\`, no fsync).
- **Small requests.** \`wrk -t2 -c32 -d${ctx.seconds}s --latency\` with \`bench/wrk/bench.lua\`; every
  request carries the same \`Authorization: Bearer\` header, which only Stowage checks. PUT of a
  new key uses a new key on every request (a counter per wrk thread); overwrite cycles over 64
  existing keys per thread. A run with any failed or non-2xx request is not counted. Each server
  gets a ${ctx.warmSeconds} s warm-up of the same request before the repetitions; before each run
  \`sync\` writes back, untimed, what earlier runs left dirty in the page cache, then 1 s pause.
- **Repetitions.** ${ctx.reps} repetition${ctx.reps === 1 ? '' : 's'}; in repetition r the servers run in an order rotated by r,
  so no server always runs first or last. A figure is the median of the repetitions with the
  min–max; a ratio is the median of the per-repetition ratios (Stowage over the reference measured
  in the same repetition).
- **1 GiB transfers.** curl, one transfer at a time (\`curl -T\` single PUT with \`Expect:\` off;
  \`curl -o /dev/null\`), MB/s = 10^6 bytes per second of curl's total time; each checks the
  status and byte count. After each upload \`sync\` runs untimed, so the next transfer does not
  pay for the page cache a server without fsync left dirty. The server's RSS is read from
  /proc/PID/status every 20 ms during the transfer: growth = peak − the RSS just before it.
- **Latency probes** run in a fresh Node process each: the TS client's \`get\` of 1 KiB against a
  raw undici \`request\` of the same URL (keep-alive agent, body read as text), alternating blocks
  of 100 after 300 warm-up calls each, medians compared; \`stowage exists KEY\` (a new process per
  call, median of 5) against \`curl -I\` of the same object.
- **A newcomer during a flood.** \`bench/flood-worker.mjs\` opens 500 keep-alive connections as
  user \`bench\` (raw sockets; each sends a GET of the 1 KiB object and a PUT of 1 KiB in turn, the
  next as soon as the answer is in, and a connection the server closes is opened again at once),
  far past the user's share of requests in flight (64 by default), so most answers are 429. After
  ${ctx.warmSeconds} s of flood, another user times for ${ctx.seconds} s, in turn with 10 ms pauses: a GET of its own 1 KiB
  object on a new connection, a GET of \`/healthz\` on a new connection, and a GET of its object on
  one kept-alive connection opened before the clock started, each until its answer is read whole
  (\`bench/latency-worker.mjs fresh-connection\`). The figure is the p99 of the requests on new
  connections; the kept-alive p99 is beside it. The flood stops after each repetition.
- **Data set.** \`bench/dataset.mjs\` loads ${ctx.datasetKeys.toLocaleString('en-US')} objects of 1 KiB (keys
  \`ds/0000000\`…) directly into the SQLite index of a stopped data directory, one transaction per
  50,000 rows, values inline as the server keeps objects of that size. It is a direct index load,
  not writes through the server: pages are packed in key order and there are no blob files.
  Start-up is timed from spawn to the "Stowage is serving" line, with a warm page cache. A list
  page is \`GET /data/list?prefix=ds/NNNN\` (1000 keys) at pseudo-random places, sequential; the
  figure is the p50. iterList walks every key through \`Storage.iterList\`.
- **Resumable upload** is the TS client's \`setFile\` of the same 1 GiB file in a fresh process
  (it gets an upload URL and sends 8 MiB chunks, hashing them as they go), timed end to end
  against the node-ceiling single PUT of the same repetition; the note gives the rate after the
  first chunk.
- **HEAD** is driven by ApacheBench (\`ab -k -i -c32 -t${ctx.seconds}\`), and so is the node-ceiling
  GET it is compared with (\`ab -k -c32\`), order rotated per repetition, after a ${ctx.warmSeconds} s
  warm-up each: wrk cannot send HEAD, and autocannon (9.0.0) completes no HEAD request whose
  response announces a Content-Length. ab is single-threaded (one core for the load generator),
  so its req/s are lower than wrk's and only its own ratio is meaningful. p99 is from ab's CSV
  percentiles; a run with any failed or non-2xx request is not counted.
- **PostgreSQL + S3.** \`scripts/services/postgres-start.sh\` and \`rgw-start.sh\` (1 mon, 1 OSD on
  memstore, radosgw; \`MEMSTORE_BYTES\` 6 GiB) start in the temp dir; Stowage runs on them with
  \`STOWAGE_INDEX=postgres://…\`, \`STOWAGE_BLOBS=s3://stowage-bench/bench\` and
  \`STOWAGE_REPLACED_BLOB_GRACE=0s\`, and everything is stopped with the stop scripts (\`--purge\`)
  at the end, also on error. GET of a 1 MiB object (a blob in the bucket) with 8 concurrent loops
  of a Node load generator in a fresh process (\`bench/s3-worker.mjs\`): undici → Stowage against
  \`@aws-sdk/client-s3\` GetObject of the same bytes straight from RGW, each body read to the end;
  MB/s = 10^6 bytes per second. Upload: curl PUT of the 1 GiB file → Stowage against the SDK
  straight to RGW, both one streamed PutObject and a multipart upload as \`@aws-sdk/lib-storage\`
  does it (5 MiB parts, 4 in flight); the ratio is to the faster SDK way in each repetition, and
  Stowage's RSS is sampled as for the 1 GiB transfers. After each upload the object is deleted and
  \`radosgw-admin gc process\` runs, untimed, so the in-memory OSD does not fill. Both services run
  with the test scripts' settings (PostgreSQL without fsync, RGW's objects in RAM): a faster store
  than a production one, so the ratios weigh Stowage's own cost.
- A benchmark is not a test: nothing asserts a timing, and CI does not run it.
`;
  writeFileSync(file, text);
}
