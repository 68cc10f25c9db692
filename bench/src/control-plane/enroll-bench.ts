// Certificates issued per second from CSRs through POST /v1/enroll (issue 4), on its own so each setup can be
// measured and profiled apart from the rest of the control-plane figures. Prints figures; asserts nothing.
//   node tools/build.mjs && node dist/bench/src/control-plane/enroll-bench.js [options]
//     --db pglite|postgres     embedded database (default) or BENCH_DATABASE_URL / the local server (a fresh database)
//     --conn new|keepalive     a new TLS connection per enrollment, as every real agent makes (default), or kept alive
//     --tokens each|shared     one single-use token per agent (default, the normal case) or one n-use token
//     --n 600 --parallel 16 --rounds 3
//     --prof DIR               the control plane runs with --cpu-prof into DIR
//     --replicas N             N control-plane processes on the one Postgres database, enrollments spread over them
//     --path channel           instead: processing-unit certificates from csr messages over the control channel
//                              (--agents 16 connected agents, --per-agent 4 requests in flight on each)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request, type RequestOptions } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr, generateKeyPair } from '@palisade/pki';
import { start, stop, TOKEN, withBenchDatabase, type Running } from '../control-plane-bench';
import { median } from '../datapath/run';
import { call, enrollMany, SimAgent, type Api } from './sim-agents';
import { runMain } from '../run-main';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : (process.argv[i + 1] ?? dflt);
}

function enroll(api: Api, agent: Agent | false, secureContext: SecureContext, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    // One secure context for every request: `ca` per request would parse the bundle into a new one each time,
    // work of the load generator that shares the two cores with the control plane.
    const options: RequestOptions & { secureContext: SecureContext } = { method: 'POST', secureContext, agent, headers: { 'content-type': 'application/json', 'content-length': body.length } };
    const req = request(`${api.url}/v1/enroll`, options, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('POST /v1/enroll: no answer within 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** One control-plane process of a measurement. */
export interface Replica {
  api: Api;
  pid: number | undefined;
}

export interface EnrollFigures {
  perSecond: number;
  rounds: number[];
  /** CPU time of the control-plane process per certificate (user + system), median over rounds. */
  serverCpuMsPerCert: number | null;
  /** CPU time of this load generator per certificate. */
  clientCpuMsPerCert: number;
}

/** utime + stime of a process in ms, from /proc (Linux); null elsewhere. */
function processCpuMs(pid: number | undefined): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** Rounds of a measurement: each round's rate and CPU per certificate, combined as medians. */
class Rounds {
  private readonly rates: number[] = [];
  private readonly serverCpu: number[] = [];
  private readonly clientCpu: number[] = [];

  constructor(private readonly serverPids: (number | undefined)[]) {}

  private serverCpuMs(): number | null {
    const each = this.serverPids.map(processCpuMs);
    return each.some((c) => c === null) ? null : (each as number[]).reduce((a, b) => a + b, 0);
  }

  /** Times `run` issuing `n` certificates: wall clock, the control plane's CPU and this process's CPU. */
  async time(n: number, run: () => Promise<unknown>): Promise<void> {
    const s0 = this.serverCpuMs();
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await run();
    this.rates.push(n / (Number(process.hrtime.bigint() - t0) / 1e9));
    const s1 = this.serverCpuMs();
    const c1 = process.cpuUsage(c0);
    if (s0 !== null && s1 !== null) {
      this.serverCpu.push((s1 - s0) / n);
    }
    this.clientCpu.push((c1.user + c1.system) / 1000 / n);
  }

  figures(): EnrollFigures {
    return { perSecond: median(this.rates), rounds: this.rates, serverCpuMsPerCert: this.serverCpu.length ? median(this.serverCpu) : null, clientCpuMsPerCert: median(this.clientCpu) };
  }
}

/** 64 keys and CSRs in rotation: each request is checked on its own merits, as agents' requests are. */
const makeCsrs = (prefix: string) => Promise.all(Array.from({ length: 64 }, async (_, i) => createCsr((await generateKeyPair()).privateKeyPem, `${prefix}-${i}`)));

/** Runs `workers` loops that each call `one(i)` for the next i until `n` are done. */
async function drain(n: number, workers: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < n) {
        await one(next++);
      }
    }),
  );
}

/**
 * `rounds` × `n` enrollments with `parallel` in flight against a running control plane; certificates/s per round.
 * Tokens and CSRs are made before the clock starts (key generation is the agent's cost, not the control plane's).
 */
export async function measureEnroll(api: Api, serverPid: number | undefined, o: { namespace: string; n: number; parallel: number; rounds: number; keepAlive: boolean; sharedToken: boolean; replicas?: Replica[] }): Promise<EnrollFigures> {
  const csrs = await makeCsrs('bench-agent');
  // With replicas, enrollment i goes to replica i mod count (as a TCP load balancer would spread agents).
  const targets = o.replicas ?? [{ api, pid: serverPid }];
  const rounds = new Rounds(targets.map((t) => t.pid));
  const secureContext = createSecureContext({ ca: api.ca, minVersion: 'TLSv1.3' });
  for (let round = 0; round < o.rounds; round++) {
    const tokens: string[] = [];
    for (let i = 0; i < (o.sharedToken ? 1 : o.n); i++) {
      const t = await call(api, 'POST', '/v1/enrollmenttokens', { namespace: o.namespace, maxUses: o.sharedToken ? o.n : 1, ttlSeconds: 3600 });
      if (t.status !== 201) {
        throw new Error(`enrollment token: ${t.status} ${JSON.stringify(t.body)}`);
      }
      tokens.push(String(t.body.token));
    }
    const bodies = Array.from({ length: o.n }, (_, i) => Buffer.from(JSON.stringify({ token: tokens[o.sharedToken ? 0 : i], csr: csrs[i % csrs.length], hostname: `bench-${round}-${i}` })));
    const agents = targets.map(() => (o.keepAlive ? new Agent({ keepAlive: true, maxSockets: o.parallel }) : false));
    await rounds.time(o.n, () =>
      drain(o.n, o.parallel, async (i) => {
        const status = await enroll(targets[i % targets.length].api, agents[i % targets.length], secureContext, bodies[i]);
        if (status !== 201) {
          throw new Error(`enroll: HTTP ${status}`);
        }
      }),
    );
    agents.forEach((a) => a && a.destroy());
  }
  return rounds.figures();
}

/**
 * `rounds` × `n` processing-unit certificates from csr messages over `agents` connected agents' control channels,
 * `perAgent` requests in flight on each; certificates/s per round, CPU per certificate as in measureEnroll.
 */
export async function measureChannel(api: Api, serverPid: number | undefined, o: { namespace: string; agents: number; perAgent: number; n: number; rounds: number }): Promise<EnrollFigures> {
  const { creds } = await enrollMany(api, o.namespace, o.agents);
  const agents = await Promise.all(creds.map((c) => SimAgent.connect(api, c)));
  await Promise.all(agents.map((a) => a.waitForChange(null)));
  const csrs = await makeCsrs('bench-pu');
  const rounds = new Rounds([serverPid]);
  try {
    for (let round = 0; round < o.rounds; round++) {
      // Request i goes to agent i mod agents, so every agent keeps perAgent requests in flight.
      await rounds.time(o.n, () => drain(o.n, agents.length * o.perAgent, (i) => agents[i % agents.length].requestCertificate(csrs[i % csrs.length], 'tcp:8106')));
    }
  } finally {
    agents.forEach((a) => a.close());
  }
  return rounds.figures();
}

/**
 * Starts a control plane on the embedded database or on a fresh database of the local Postgres server
 * (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres), with namespace /bench, and runs `fn`
 * against it; everything is removed afterwards.
 */
export function withControlPlane<T>(db: 'pglite' | 'postgres', nodeArgs: string[], fn: (api: Api, pid: number | undefined, replicas: Replica[]) => Promise<T>, replicaCount = 1): Promise<T> {
  if (db === 'postgres') {
    return withBenchDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', (url) => onDatabase(url, nodeArgs, fn, replicaCount));
  }
  return onDatabase('', nodeArgs, fn, replicaCount);
}

async function onDatabase<T>(databaseUrl: string, nodeArgs: string[], fn: (api: Api, pid: number | undefined, replicas: Replica[]) => Promise<T>, replicaCount: number): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-enroll-bench-'));
  const started: Running[] = [];
  try {
    // Replicas share the database and the key-encryption key; the first creates the CA, the others load it.
    const env = { PALISADE_KEK: randomBytes(32).toString('base64') };
    for (let i = 0; i < replicaCount; i++) {
      started.push(await start(join(dir, `replica-${i}`), databaseUrl, nodeArgs, env));
    }
    const ca = readFileSync(join(dir, 'replica-0', 'ca.pem'), 'utf8');
    const replicas = started.map((cp) => ({ api: { url: cp.url, ca, token: TOKEN }, pid: cp.child.pid }));
    await call(replicas[0].api, 'POST', '/v1/namespaces', { name: '/bench' });
    return await fn(replicas[0].api, replicas[0].pid, replicas);
  } finally {
    for (const cp of started) {
      await stop(cp);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line for a measurement: the rate, its rounds and the CPU per certificate on each side. */
export function describeFigures(what: string, f: EnrollFigures, n: number): string {
  return (
    `${what}: ${f.perSecond.toFixed(0)} certificates/s (median of ${f.rounds.length} × ${n}; rounds ${f.rounds.map((r) => r.toFixed(0)).join(', ')}); ` +
    `control-plane CPU ${f.serverCpuMsPerCert?.toFixed(2) ?? '?'} ms/certificate, load generator ${f.clientCpuMsPerCert.toFixed(2)} ms/certificate`
  );
}

/** Enrollment with `parallel` in flight: one discarded warm-up round (JIT, connection pool), then `rounds`. */
export async function enrollFigures(api: Api, pid: number | undefined, o: { n: number; parallel: number; rounds: number; keepAlive: boolean; sharedToken: boolean; replicas?: Replica[] }): Promise<EnrollFigures> {
  await measureEnroll(api, pid, { ...o, namespace: '/bench', n: Math.min(o.n, 200), rounds: 1 });
  return measureEnroll(api, pid, { ...o, namespace: '/bench' });
}

/** Control-channel certificates: one discarded warm-up round, then `rounds`. */
export async function channelFigures(api: Api, pid: number | undefined, o: { agents: number; perAgent: number; n: number; rounds: number }): Promise<EnrollFigures> {
  await measureChannel(api, pid, { ...o, namespace: '/bench', n: Math.min(o.n, 200), rounds: 1 });
  return measureChannel(api, pid, { ...o, namespace: '/bench' });
}

async function main(): Promise<void> {
  const db = arg('db', 'pglite') === 'postgres' ? 'postgres' : 'pglite';
  const keepAlive = arg('conn', 'new') === 'keepalive';
  const sharedToken = arg('tokens', 'each') === 'shared';
  const n = Number(arg('n', '600'));
  const parallel = Number(arg('parallel', '16'));
  const rounds = Number(arg('rounds', '3'));
  const prof = arg('prof', '');
  const replicaCount = Number(arg('replicas', '1'));
  if (replicaCount > 1 && db !== 'postgres') {
    throw new Error('--replicas needs --db postgres (PGlite is one process)');
  }
  await withControlPlane(db, prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [], async (api, pid, replicas) => {
    if (arg('path', 'enroll') === 'channel') {
      const agents = Number(arg('agents', '16'));
      const perAgent = Number(arg('per-agent', '4'));
      const f = await channelFigures(api, pid, { agents, perAgent, n, rounds });
      console.log(describeFigures(`${db}, processing-unit certificates over ${agents} agents' control channels, ${perAgent} in flight each`, f, n));
      return;
    }
    const f = await enrollFigures(api, pid, { n, parallel, rounds, keepAlive, sharedToken, replicas });
    console.log(describeFigures(`${db}${replicaCount > 1 ? ` × ${replicaCount} replicas` : ''}, ${keepAlive ? 'kept-alive connections' : 'a new TLS connection per enrollment'}, ${sharedToken ? `one ${n}-use token` : 'one token per agent'}, ${parallel} in flight`, f, n));
  }, replicaCount);
}

if (require.main === module) {
  runMain(main);
}
