// `stowage exists KEY` wall time (a cold CLI process per call) against curl doing the same HEAD.
import { run } from '../procs.mjs';
import { cleanEnv, REPO, STOWAGE_BIN } from '../servers.mjs';
import { append, median, rotated } from '../stats.mjs';
import { SMALL_KEY } from './small.mjs';

export async function runCli(ctx) {
  const result = {
    id: 'cli-exists',
    figure: '`stowage exists KEY` wall time (process start to exit)',
    unit: 's',
    ref: 'curl',
    values: {},
    issues: [],
  };
  const perRep = 5;
  const env = cleanEnv({ HOME: ctx.work });
  const stowage = () =>
    run(process.execPath, [STOWAGE_BIN, 'exists', SMALL_KEY, '--url', ctx.stowage.url, '--token', ctx.token], { cwd: REPO, env });
  const curl = () =>
    run('curl', [
      '-s',
      '-f',
      '-I',
      '-o',
      '/dev/null',
      '-H',
      `Authorization: Bearer ${ctx.token}`,
      `${ctx.stowage.url}/data/get/${SMALL_KEY}`,
    ]);
  await stowage();
  await curl();
  result.order = [];
  const steps = [
    ['stowage', stowage],
    ['curl', curl],
  ];
  for (let rep = 0; rep < ctx.reps; rep++) {
    const order = rotated(steps, rep);
    result.order.push(order.map(([name]) => name));
    for (const [name, call] of order) {
      const times = [];
      for (let i = 0; i < perRep; i++) {
        const out = await call();
        if (out.code !== 0) result.issues.push(`${name}: exit ${out.code} ${out.stderr.trim()}`);
        times.push(out.code === 0 ? out.ms / 1000 : Number.NaN);
      }
      append(result.values, name, median(times));
    }
    ctx.log(
      `exists rep ${rep + 1}: stowage ${result.values.stowage.at(-1).toFixed(3)} s, curl ${result.values.curl.at(-1).toFixed(3)} s (median of ${perRep})`,
    );
  }
  result.ratio = result.values.stowage.map((v, i) => v / result.values.curl[i]);
  ctx.record(result);
}
