// Working on one figure of one condition (not part of `npm run bench`): starts the condition and the backend,
// runs one load for a while, prints the figure, stops — with the agents under --cpu-prof when asked.
//   node dist/bench/src/datapath/focus.js palisade bulk|bulk4|newconn|latency [ms] [--prof DIR] [--rate N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Proc } from '../../../e2e/scenario/processes';
import { haproxyTls, palisade, stunnel, waitPort, type Condition, type Skipped } from './conditions';
import { bulk, newConnections, openLoop } from './load';
import { createBenchPki } from './pki';
import { cpuSeconds } from './procstat';
import { runMain } from '../run-main';

async function main(): Promise<void> {
  const [name, what, msArg] = process.argv.slice(2);
  const ms = Number(msArg ?? 5000);
  const flag = (f: string): string | undefined => (process.argv.includes(f) ? process.argv[process.argv.indexOf(f) + 1] : undefined);
  const prof = flag('--prof');
  const dir = mkdtempSync(join(tmpdir(), 'palisade-focus-'));
  const pal = await palisade(join(dir, 'pal'), () => undefined);
  const backend = new Proc('backend', [process.execPath, join(__dirname, 'backend.js'), String(pal.appPort)]);
  await waitPort(pal.appPort, backend);
  let c: Condition | Skipped = pal;
  if (name === 'stunnel') {
    c = await stunnel(dir, createBenchPki(join(dir, 'pki')), pal.appPort);
  } else if (name === 'haproxy') {
    c = await haproxyTls(dir, createBenchPki(join(dir, 'pki')), pal.appPort);
  } else if (prof) {
    for (const a of ['server', 'client'] as const) {
      await pal.restartAgent(a, {}, ['--cpu-prof', `--cpu-prof-dir=${prof}`]);
    }
  }
  if (!('port' in c)) {
    throw new Error(c.reason);
  }
  const cond = c;
  await bulk(cond.port, 1, 500);
  const cpu0 = cpuSeconds(cond.pids());
  if (what === 'bulk' || what === 'bulk4') {
    const r = await bulk(cond.port, what === 'bulk' ? 1 : 4, ms);
    console.log(`${name} ${what}: ${(r.bytes / 2 ** 20 / r.seconds).toFixed(0)} MiB/s, CPU ${((cpuSeconds(cond.pids()) - cpu0) / (r.bytes / 2 ** 30)).toFixed(2)} s/GiB`);
  } else if (what === 'newconn') {
    const r = await newConnections(cond.port, 8, ms);
    console.log(`${name} newconn: ${r.perSecond.toFixed(0)}/s (${r.errors} errors)`);
  } else {
    const r = await openLoop(cond.port, Number(flag('--rate') ?? 2000), ms);
    console.log(`${name} latency @${r.rate}/s: p50 ${r.p50us.toFixed(0)} µs p99 ${r.p99us.toFixed(0)} µs (${r.completed}/${r.sent})`);
  }
  if (cond !== pal) {
    await cond.stop();
  }
  await pal.stop();
  await backend.stop();
  rmSync(dir, { recursive: true, force: true });
}

runMain(main);
