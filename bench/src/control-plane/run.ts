// The control-plane figures of issues 2–5 and 7: cold start and GET-list requests/s (issue 2), compile time
// for 10k PUs × 1k policies (issue 3), certificates per second through POST /v1/enroll (issue 4), and the
// time from a policy write to every agent's ack with 100 and 1,000 simulated agents (issues 5 and 7).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, start, stop, TOKEN } from '../control-plane-bench';
import { compileMs } from '../policy-bench';
import { median } from '../datapath/run';
import { call, enrollMany, SimAgent, type Api } from './sim-agents';
import { channelFigures, describeFigures, enrollFigures, withControlPlane } from './enroll-bench';

export interface ControlPlaneFigures {
  cold_start_ms: number | null;
  warm_start_ms: number | null;
  get_list_rps: number | null;
  get_list_p99_ms: number | null;
  compile_ms_10k_pus_1k_policies: number | null;
  /** Enrolling the simulated agents below (PGlite, a new connection each, one shared token). */
  certs_per_second: number | null;
  /** Issue 4's figure per setup: POST /v1/enroll over new / kept-alive connections, and csr messages on the channel. */
  certs_enroll_new_connection_pglite?: number | null;
  certs_enroll_keepalive_pglite?: number | null;
  certs_channel_pglite?: number | null;
  certs_enroll_new_connection_postgres?: number | null;
  certs_enroll_keepalive_postgres?: number | null;
  certs_channel_postgres?: number | null;
  ack_p50_ms_100_agents: number | null;
  ack_p99_ms_100_agents: number | null;
  ack_p50_ms_1000_agents: number | null;
  ack_p99_ms_1000_agents: number | null;
  policy_changes_per_measurement: number;
  policy_changes_measured_100_agents?: number;
  policy_changes_measured_1000_agents?: number;
  [reason: `${string}_reason`]: string | undefined;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

/** `changes` policy writes; for each, ms from sending the POST to the last agent's new rule set. */
async function ackTimes(api: Api, agents: SimAgent[], changes: number, tag: string, budgetMs: number): Promise<number[]> {
  const out: number[] = [];
  const started = Date.now();
  // A time budget keeps the whole benchmark at minutes: with a slow fan-out fewer changes are measured
  // (at least 3), and the JSON says how many.
  for (let i = 0; i < changes && (i < 3 || Date.now() - started < budgetMs); i++) {
    const before = agents.map((a) => a.lastHash);
    const t0 = Number(process.hrtime.bigint()) / 1e6;
    const r = await call(api, 'POST', '/v1/networkaccesspolicies', { namespace: '/bench', name: `bench-${tag}-${i}`, subject: [['app=client']], object: [['$type=HostService']], action: 'Allow', ports: ['tcp/8106'] });
    if (r.status !== 201) {
      throw new Error(`policy write: ${r.status} ${JSON.stringify(r.body)}`);
    }
    await Promise.all(agents.map((a, k) => a.waitForChange(before[k])));
    out.push(Math.max(...agents.map((a) => a.lastAt)) - t0);
    process.stdout.write(`  change ${i + 1}: ${out[out.length - 1].toFixed(0)} ms to every agent\n`);
    await new Promise((res) => setTimeout(res, 50));
  }
  return out;
}

async function connectAll(api: Api, creds: Parameters<typeof SimAgent.connect>[1][], parallel = 50): Promise<SimAgent[]> {
  const out: SimAgent[] = [];
  for (let i = 0; i < creds.length; i += parallel) {
    out.push(...(await Promise.all(creds.slice(i, i + parallel).map((c) => SimAgent.connect(api, c)))));
  }
  await Promise.all(out.map((a) => a.waitForChange(null)));
  return out;
}

/** Runs every control-plane figure; a figure that fails is null with the reason beside it. */
export async function runControlPlane(o: { dir: string; quick: boolean; step: (l: string) => void }): Promise<ControlPlaneFigures> {
  mkdirSync(o.dir, { recursive: true });
  const changes = o.quick ? 3 : 20;
  const f: ControlPlaneFigures = {
    cold_start_ms: null, warm_start_ms: null, get_list_rps: null, get_list_p99_ms: null, compile_ms_10k_pus_1k_policies: null,
    certs_per_second: null, ack_p50_ms_100_agents: null, ack_p99_ms_100_agents: null, ack_p50_ms_1000_agents: null, ack_p99_ms_1000_agents: null,
    policy_changes_per_measurement: changes,
  };
  const attempt = async (keys: (keyof ControlPlaneFigures)[], fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      for (const k of keys) {
        f[`${String(k)}_reason`] = `failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 300);
      }
    }
  };
  await attempt(['compile_ms_10k_pus_1k_policies'], async () => {
    o.step('compile 10k PUs × 1k policies');
    f.compile_ms_10k_pus_1k_policies = compileMs(10_000, 1_000, o.quick ? 1 : 3);
  });
  await attempt(['cold_start_ms', 'warm_start_ms', 'get_list_rps', 'get_list_p99_ms'], async () => {
    o.step('control-plane cold start and GET list (autocannon)');
    const b = await measure('pglite', '', o.quick ? 2 : 5);
    Object.assign(f, { cold_start_ms: b.coldStartMs, warm_start_ms: b.warmStartMs, get_list_rps: b.getListRps, get_list_p99_ms: b.getListP99Ms });
  });
  for (const db of ['pglite', 'postgres'] as const) {
    const keys = [`certs_enroll_new_connection_${db}`, `certs_enroll_keepalive_${db}`, `certs_channel_${db}`] as const;
    await attempt([...keys], async () => {
      o.step(`certificates/s from CSRs through the API on ${db}`);
      const n = o.quick ? 300 : 1000;
      const rounds = o.quick ? 1 : 3;
      await withControlPlane(db, [], async (api, pid) => {
        const runs = [
          [keys[0], 'POST /v1/enroll, a new TLS connection each, 16 in flight', () => enrollFigures(api, pid, { n, parallel: 16, rounds, keepAlive: false, sharedToken: false })],
          [keys[1], 'POST /v1/enroll, kept-alive connections, 16 in flight', () => enrollFigures(api, pid, { n, parallel: 16, rounds, keepAlive: true, sharedToken: false })],
          [keys[2], 'csr messages over 16 agents\' control channels, 4 in flight each', () => channelFigures(api, pid, { agents: 16, perAgent: 4, n, rounds })],
        ] as const;
        for (const [key, what, run] of runs) {
          const m = await run();
          f[key] = Math.round(m.perSecond);
          o.step(`  ${describeFigures(`${db}, ${what}`, m, n)}`);
        }
      });
    });
  }
  await attempt(['certs_per_second', 'ack_p50_ms_100_agents', 'ack_p99_ms_100_agents', 'ack_p50_ms_1000_agents', 'ack_p99_ms_1000_agents'], async () => {
    const cp = await start(join(o.dir, 'sim'), '');
    const api: Api = { url: cp.url, ca: readFileSync(join(o.dir, 'sim', 'ca.pem'), 'utf8'), token: TOKEN };
    const agents: SimAgent[] = [];
    try {
      await call(api, 'POST', '/v1/namespaces', { name: '/bench' });
      // Enrollment runs at tens per second here, so --quick measures with 100 agents only.
      const n = Number(process.env.BENCH_SIM_AGENTS ?? (o.quick ? 100 : 1000));
      o.step(`enrolling ${n} simulated agents through POST /v1/enroll`);
      const { creds, perSecond } = await enrollMany(api, '/bench', n);
      f.certs_per_second = perSecond;
      agents.push(...(await connectAll(api, creds.slice(0, 100))));
      o.step(`100 agents connected; ${changes} policy changes`);
      const t100 = await ackTimes(api, agents, changes, 'a', 30_000);
      f.policy_changes_measured_100_agents = t100.length;
      f.ack_p50_ms_100_agents = median(t100);
      f.ack_p99_ms_100_agents = quantile(t100, 0.99);
      if (n < 1000) {
        f.ack_p50_ms_1000_agents_reason = f.ack_p99_ms_1000_agents_reason = `not measured: ${n} simulated agents (--quick or BENCH_SIM_AGENTS)`;
        return;
      }
      agents.push(...(await connectAll(api, creds.slice(100))));
      o.step(`${agents.length} agents connected; ${changes} policy changes`);
      const t1000 = await ackTimes(api, agents, changes, 'b', 45_000);
      f.policy_changes_measured_1000_agents = t1000.length;
      f.ack_p50_ms_1000_agents = median(t1000);
      f.ack_p99_ms_1000_agents = quantile(t1000, 0.99);
    } finally {
      agents.forEach((a) => a.close());
      await stop(cp);
    }
  });
  return f;
}
