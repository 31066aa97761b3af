// `stowage backup DIR` of the blob data set while its server serves, against a plain copy of the
// same data directory (`cp -a`), each timed from its start until `sync` has written it to disk,
// to a fresh destination each time, the order rotated in each repetition. The second backup to
// the same destination (incremental: every blob already there) is given in the notes.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { run } from '../procs.mjs';
import { cleanEnv, REPO, STOWAGE_BIN, startStowage } from '../servers.mjs';
import { append, ratios, rotated } from '../stats.mjs';
import { blobDataset, OBJECT_BYTES } from './blob-dataset.mjs';

/** Runs `command`, then sync; { ok, seconds, problem }. */
async function untilOnDisk(command, args, options) {
  const started = process.hrtime.bigint();
  const done = await run(command, args, options);
  await run('sync', []);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ok: done.code === 0, seconds, problem: done.stderr.trim().split('\n').slice(-2).join(' ') };
}

export async function runBackup(ctx) {
  const data = await blobDataset(ctx);
  const mib = (data.bytes / 2 ** 20).toFixed(0);
  const result = {
    id: 'backup',
    figure: `stowage backup of ${data.objects} objects of ${OBJECT_BYTES / 1024} KiB (${mib} MiB) to a directory, while the server serves`,
    unit: 'MB/s',
    ref: 'cp',
    values: {},
    order: [],
    issues: [],
  };
  const server = await startStowage(data.dir);
  const objectsPerSecond = [];
  let incremental;
  try {
    const destination = (name) => path.join(ctx.work, `backup-to-${name}`);
    const participants = [
      {
        name: 'stowage',
        copy: () =>
          untilOnDisk(process.execPath, [STOWAGE_BIN, 'backup', destination('stowage'), '--data-dir', data.dir, '--json'], {
            cwd: REPO,
            env: cleanEnv(),
          }),
      },
      { name: 'cp', copy: () => untilOnDisk('cp', ['-a', data.dir, destination('cp')]) },
    ];
    for (let rep = 0; rep < ctx.reps; rep++) {
      result.order.push(rotated(participants, rep).map((p) => p.name));
      for (const p of rotated(participants, rep)) {
        rmSync(destination(p.name), { recursive: true, force: true });
        await run('sync', []);
        const copied = await p.copy();
        append(result.values, p.name, copied.ok ? data.bytes / copied.seconds / 1e6 : Number.NaN);
        if (p.name === 'stowage' && copied.ok) objectsPerSecond.push(data.objects / copied.seconds);
        if (!copied.ok) result.issues.push(`${p.name} repetition ${rep + 1}: ${copied.problem}`);
        ctx.log(`backup rep ${rep + 1} ${p.name}: ${copied.seconds.toFixed(2)} s${copied.ok ? '' : ' FAILED'}`);
      }
    }
    incremental = await participants[0].copy();
  } finally {
    await server.stop();
  }
  result.ratio = ratios(result.values.stowage, result.values.cp);
  const rate = objectsPerSecond.map((v) => Math.round(v).toLocaleString('en-US')).join(', ');
  result.detail = `Backup: ${rate} objects/s; each time from the command's start (a new \`stowage\` process) until \`sync\` returns, to an empty directory; the backup copies a consistent snapshot of the index (SQLite's online backup) and every blob it names, fsyncing each; \`cp -a\` copies the same data directory, with no snapshot. A second backup to the same destination (every blob already there): ${incremental.ok ? `${incremental.seconds.toFixed(2)} s` : `failed (${incremental.problem})`}.`;
  ctx.record(result);
}
