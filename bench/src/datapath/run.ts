// The datapath benchmark: starts every condition once, then interleaves them in rounds (a discarded warm-up,
// then N measured rounds, the order rotated each round) and computes Palisade's ratio to each other condition
// per round. A ratio measured within one round shares that moment's machine noise; its median over rounds is
// what holds on a busy two-core box where absolute figures swing by a third.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Proc } from '../../../e2e/scenario/processes';
import { direct, haproxyTls, palisade, relay, stunnel, waitPort, type Condition, type ConditionName, type PalisadeCondition, type Skipped } from './conditions';
import { bulk, holdConnections, newConnections, openLoop, rrCapacity } from './load';
import { createBenchPki } from './pki';
import { cpuSeconds, rssBytes } from './procstat';

export interface DatapathOptions {
  dir: string;
  rounds: number;
  phaseMs: number;
  holdConns: number;
  step: (line: string) => void;
  /** Run only these conditions (BENCH_CONDITIONS=palisade,stunnel), for focused work on one figure. */
  only?: ConditionName[];
  /** Extra node flags for the Palisade agents (e.g. --cpu-prof), from BENCH_AGENT_NODE_ARGS. */
  agentNodeArgs?: string;
}

export interface RoundFigures {
  mibps1: number;
  mibps4: number;
  cpuSecPerGiB: number | null;
  connPerSec: number;
  connErrors: number;
  latency: { load: number; rate: number; p50us: number; p99us: number; completed: number; sent: number }[];
  connPerSecNoResume?: number;
}

export interface ConditionResult {
  name: ConditionName;
  label: string;
  capacityRps: number;
  rounds: RoundFigures[];
  rss?: { idleMiB: number; withConnsMiB: number; conns: number };
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

const LOADS = [0.25, 0.5, 0.75];

export function median(xs: number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) {
    return NaN;
  }
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function spread(xs: number[]): Spread {
  const f = xs.filter((x) => Number.isFinite(x));
  return { median: median(f), min: Math.min(...f), max: Math.max(...f) };
}

async function measureRound(c: Condition, rates: number[], ms: number): Promise<RoundFigures> {
  const cpu0 = cpuSeconds(c.pids());
  const b1 = await bulk(c.port, 1, ms);
  const b4 = await bulk(c.port, 4, ms);
  const cpu = cpuSeconds(c.pids()) - cpu0;
  const gib = (b1.bytes + b4.bytes) / 2 ** 30;
  const conn = await newConnections(c.port, 8, ms);
  const latency = [];
  for (let i = 0; i < rates.length; i++) {
    const r = await openLoop(c.port, rates[i], ms);
    latency.push({ load: LOADS[i], rate: Math.round(rates[i]), p50us: r.p50us, p99us: r.p99us, completed: r.completed, sent: r.sent });
  }
  return {
    mibps1: b1.bytes / 2 ** 20 / b1.seconds,
    mibps4: b4.bytes / 2 ** 20 / b4.seconds,
    cpuSecPerGiB: c.pids().length ? cpu / gib : null,
    connPerSec: conn.perSecond,
    connErrors: conn.errors,
    latency,
  };
}

/** Runs the whole datapath benchmark; returns per-condition figures and the skipped conditions. */
export async function runDatapath(o: DatapathOptions): Promise<{ results: ConditionResult[]; skipped: Skipped[]; rates: number[] }> {
  mkdirSync(o.dir, { recursive: true });
  const pki = createBenchPki(join(o.dir, 'pki'));
  o.step('starting E (control plane, enrollment, seed policy, agents)…');
  const pal: PalisadeCondition = await palisade(join(o.dir, 'palisade'), () => undefined);
  const nodeArgs = o.agentNodeArgs?.split(' ').filter(Boolean) ?? [];
  if (nodeArgs.length) {
    await pal.restartAgent('server', {}, nodeArgs);
    await pal.restartAgent('client', {}, nodeArgs);
  }
  const backend = new Proc('backend', [process.execPath, join(__dirname, 'backend.js'), String(pal.appPort)]);
  const started: (Condition | Skipped)[] = [pal, direct(pal.appPort)];
  try {
    await waitPort(pal.appPort, backend);
    started.push(await relay(o.dir, pal.appPort), await stunnel(o.dir, pki, pal.appPort), await haproxyTls(o.dir, pki, pal.appPort));
  } catch (e) {
    await Promise.allSettled(started.filter((c): c is Condition => 'port' in c).map((c) => c.stop()));
    await backend.stop();
    throw e;
  }
  // Report order: A … E.
  started.push(started.shift()!);
  const conds = started.filter((c): c is Condition => 'port' in c && (!o.only || o.only.includes(c.name)));
  const skipped = started.filter((c): c is Skipped => !('port' in c));
  for (const s of skipped) {
    o.step(`skipping ${s.name}: ${s.reason}`);
  }
  const results = new Map<ConditionName, ConditionResult>(conds.map((c) => [c.name, { name: c.name, label: c.label, capacityRps: 0, rounds: [] }]));
  try {
    // Warm-up round: JIT, TLS session caches, the kernel's socket buffers — and each condition's capacity.
    o.step('warm-up round (discarded); measuring request/response capacity');
    for (const c of conds) {
      await bulk(c.port, 1, o.phaseMs / 2);
      await newConnections(c.port, 8, o.phaseMs / 2);
      results.get(c.name)!.capacityRps = await rrCapacity(c.port, 16, o.phaseMs);
    }
    const slowest = Math.min(...[...results.values()].map((r) => r.capacityRps));
    const rates = LOADS.map((l) => l * slowest);
    o.step(`slowest capacity ${slowest.toFixed(0)} req/s → open-loop rates ${rates.map((r) => r.toFixed(0)).join(', ')} req/s`);
    for (let r = 0; r < o.rounds; r++) {
      const order = conds.map((_, i) => conds[(i + r) % conds.length]);
      for (const c of order) {
        results.get(c.name)!.rounds[r] = await measureRound(c, rates, o.phaseMs);
      }
      o.step(`round ${r + 1}/${o.rounds} done`);
    }
    // Memory: idle (after the traffic above), then with `holdConns` connections open through the pair.
    for (const c of conds) {
      if (!c.pids().length) {
        continue;
      }
      const idle = rssBytes(c.pids());
      const socks = await holdConnections(c.port, o.holdConns);
      await new Promise((res) => setTimeout(res, 200));
      const held = rssBytes(c.pids());
      socks.forEach((s) => s.destroy());
      results.get(c.name)!.rss = { idleMiB: idle / 2 ** 20, withConnsMiB: held / 2 ** 20, conns: o.holdConns };
      await new Promise((res) => setTimeout(res, 200));
    }
    // New connections without session resumption: the TLS conditions on their no-resumption client side;
    // Palisade's client agent restarted with PALISADE_TLS_RESUMPTION=off.
    o.step('new connections without TLS session resumption');
    await pal.restartAgent('client', { PALISADE_TLS_RESUMPTION: 'off' }, nodeArgs);
    await newConnections(pal.port, 8, o.phaseMs / 2);
    for (let r = 0; r < o.rounds; r++) {
      for (const c of conds) {
        const port = c.name === 'palisade' ? c.port : (c.noResumePort ?? c.port);
        results.get(c.name)!.rounds[r].connPerSecNoResume = (await newConnections(port, 8, o.phaseMs)).perSecond;
      }
    }
    return { results: [...results.values()], skipped, rates };
  } finally {
    await Promise.allSettled(started.filter((c): c is Condition => 'port' in c).map((c) => c.stop()));
    await backend.stop();
  }
}
