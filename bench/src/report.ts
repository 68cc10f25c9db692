// Turns the raw figures into the table printed at the end and the JSON written to bench/results/latest.json.
import type { ConditionResult, Spread } from './datapath/run';
import { median, spread } from './datapath/run';

type Num = number | null;

export interface RatioSet {
  [key: string]: Spread | null;
}

/** Per-round Palisade ÷ other for one figure, as median and spread; null when either side is missing. */
function ratio(pal: ConditionResult | undefined, other: ConditionResult | undefined, f: (r: ConditionResult['rounds'][number]) => number | undefined): Spread | null {
  if (!pal || !other) {
    return null;
  }
  const xs: number[] = [];
  for (let i = 0; i < Math.min(pal.rounds.length, other.rounds.length); i++) {
    const a = f(pal.rounds[i]);
    const b = f(other.rounds[i]);
    if (a !== undefined && b !== undefined && b > 0) {
      xs.push(a / b);
    }
  }
  return xs.length ? spread(xs) : null;
}

const p99At = (load: number) => (r: ConditionResult['rounds'][number]) => r.latency.find((l) => l.load === load)?.p99us;

/** Every Palisade ratio: to stunnel, HAProxy TLS, the relay and direct, for each figure. */
export function ratios(results: ConditionResult[]): RatioSet {
  const by = new Map(results.map((r) => [r.name, r]));
  const pal = by.get('palisade');
  const out: RatioSet = {};
  for (const other of ['stunnel', 'haproxy', 'relay', 'direct'] as const) {
    const o = by.get(other);
    out[`throughput_vs_${other}`] = ratio(pal, o, (r) => r.mibps1);
    out[`throughput4_vs_${other}`] = ratio(pal, o, (r) => r.mibps4);
    out[`newconn_vs_${other}`] = ratio(pal, o, (r) => r.connPerSec);
    out[`newconn_noresume_vs_${other}`] = ratio(pal, o, (r) => r.connPerSecNoResume);
    for (const l of [0.25, 0.5, 0.75]) {
      out[`p99_at_${l * 100}pct_vs_${other}`] = ratio(pal, o, p99At(l));
    }
  }
  return out;
}

/** The median over rounds of every per-condition figure. */
export function summary(r: ConditionResult): Record<string, Num> {
  const m = (f: (x: ConditionResult['rounds'][number]) => number | null | undefined): Num => {
    const v = median(r.rounds.map(f).filter((x): x is number => typeof x === 'number'));
    return Number.isFinite(v) ? v : null;
  };
  const out: Record<string, Num> = {
    mibps_1stream: m((x) => x.mibps1),
    mibps_4streams: m((x) => x.mibps4),
    cpu_s_per_gib: m((x) => x.cpuSecPerGiB),
    newconn_per_s: m((x) => x.connPerSec),
    newconn_noresume_per_s: m((x) => x.connPerSecNoResume),
    rr_capacity_rps: r.capacityRps,
  };
  for (const l of [0.25, 0.5, 0.75]) {
    out[`p50_us_at_${l * 100}pct`] = m((x) => x.latency.find((y) => y.load === l)?.p50us);
    out[`p99_us_at_${l * 100}pct`] = m((x) => x.latency.find((y) => y.load === l)?.p99us);
  }
  out.rss_idle_mib = r.rss?.idleMiB ?? null;
  out.rss_1000conns_mib = r.rss?.withConnsMiB ?? null;
  return out;
}

const fmt = (v: Num, digits = 0): string => (v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits));

/** A fixed-width table: one row per condition. */
export function table(results: ConditionResult[]): string {
  const head = ['condition', 'MiB/s 1', 'MiB/s 4', 'CPU s/GiB', 'conn/s', 'conn/s no-res', 'p50/p99 µs 25%', 'p50/p99 µs 50%', 'p50/p99 µs 75%', 'RSS idle/1k MiB'];
  const rows = results.map((r) => {
    const s = summary(r);
    return [
      r.label,
      fmt(s.mibps_1stream),
      fmt(s.mibps_4streams),
      fmt(s.cpu_s_per_gib, 2),
      fmt(s.newconn_per_s),
      fmt(s.newconn_noresume_per_s),
      `${fmt(s.p50_us_at_25pct)}/${fmt(s.p99_us_at_25pct)}`,
      `${fmt(s.p50_us_at_50pct)}/${fmt(s.p99_us_at_50pct)}`,
      `${fmt(s.p50_us_at_75pct)}/${fmt(s.p99_us_at_75pct)}`,
      `${fmt(s.rss_idle_mib, 1)}/${fmt(s.rss_1000conns_mib, 1)}`,
    ];
  });
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Markdown lines for the ratio medians with spreads. */
export function ratioTable(rs: RatioSet, keys: string[]): string {
  const lines = ['| Palisade ÷ … | median | min–max |', '|---|---|---|'];
  for (const k of keys) {
    const r = rs[k];
    lines.push(`| ${k} | ${r ? r.median.toFixed(2) : '—'} | ${r ? `${r.min.toFixed(2)}–${r.max.toFixed(2)}` : '—'} |`);
  }
  return lines.join('\n');
}
