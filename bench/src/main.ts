// `npm run bench [-- --quick] [-- --only datapath|control-plane]`: the whole benchmark of issue 7 in one
// command — the datapath conditions side by side, then the control plane — printing a table and writing
// bench/results/latest.json. --quick keeps the JSON shape with one short round (a smoke check, < 1 min).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConditionName } from './datapath/conditions';
import { runDatapath } from './datapath/run';
import { ratios, ratioTable, summary, table } from './report';
import { runControlPlane, type ControlPlaneFigures } from './control-plane/run';
import { runMain } from './run-main';

const ROOT = join(__dirname, '..', '..', '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : (process.argv[i + 1] ?? '');
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = arg('only');
  const t00 = Date.now();
  const step = (l: string): void => console.log(`[bench +${((Date.now() - t00) / 1000).toFixed(0)}s] ${l}`);
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-'));
  const started = Date.now();
  const out: Record<string, unknown> = {
    generatedAt: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform },
  };
  try {
    if (only !== 'control-plane') {
      const rounds = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 5);
      const dp = await runDatapath({ dir: join(dir, 'datapath'), rounds, phaseMs: quick ? 250 : 800, holdConns: 1000, step, agentNodeArgs: process.env.BENCH_AGENT_NODE_ARGS, only: process.env.BENCH_CONDITIONS?.split(',') as ConditionName[] | undefined });
      const rs = ratios(dp.results);
      const pick = (k: string): number | null => rs[k]?.median ?? null;
      const why = (k: string): string | undefined => (rs[k] ? undefined : 'a condition it compares was skipped or failed (see datapath.skipped)');
      out.datapath = {
        rounds,
        openLoopRates: dp.rates.map(Math.round),
        skipped: dp.skipped,
        conditions: Object.fromEntries(dp.results.map((r) => [r.name, { label: r.label, ...summary(r) }])),
        ratios: {
          throughput_vs_stunnel: pick('throughput_vs_stunnel'),
          throughput_vs_stunnel_reason: why('throughput_vs_stunnel'),
          newconn_vs_stunnel: pick('newconn_vs_stunnel'),
          newconn_vs_stunnel_reason: why('newconn_vs_stunnel'),
          p99_at_50pct_vs_stunnel: pick('p99_at_50pct_vs_stunnel'),
          p99_at_50pct_vs_stunnel_reason: why('p99_at_50pct_vs_stunnel'),
          throughput_vs_relay: pick('throughput_vs_relay'),
          throughput_vs_relay_reason: why('throughput_vs_relay'),
        },
        ratioSpreads: rs,
        raw: dp.results,
      };
      console.log('\nDatapath (medians over rounds):');
      console.log(table(dp.results));
      console.log('');
      console.log(ratioTable(rs, ['throughput_vs_stunnel', 'throughput4_vs_stunnel', 'newconn_vs_stunnel', 'newconn_noresume_vs_stunnel', 'p99_at_50pct_vs_stunnel', 'throughput_vs_relay', 'throughput_vs_haproxy', 'newconn_vs_haproxy', 'p99_at_50pct_vs_haproxy']));
    }
    if (only !== 'datapath') {
      const cp: ControlPlaneFigures = await runControlPlane({ dir: join(dir, 'control-plane'), quick, step });
      out.controlPlane = cp;
      console.log('\nControl plane:');
      for (const [k, v] of Object.entries(cp)) {
        if (!k.endsWith('_reason') && typeof v !== 'object') {
          console.log(`  ${k.padEnd(36)} ${v === null ? `— (${String(cp[`${k}_reason` as keyof ControlPlaneFigures])})` : typeof v === 'number' ? v.toFixed(v < 10 ? 2 : 0) : v}`);
        }
      }
    }
    out.durationSeconds = Math.round((Date.now() - started) / 1000);
    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    const file = join(ROOT, 'bench', 'results', quick ? 'quick.json' : 'latest.json');
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`\nwrote ${file} (${out.durationSeconds} s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runMain(main);
