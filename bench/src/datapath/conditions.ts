// The five conditions of issue 7, each started as real processes in front of the one backend:
//   A direct · B HAProxy `mode tcp` relay pair · C stunnel pair (client certs required) ·
//   D HAProxy TLS pair (`verify required`) · E Palisade client agent + server agent (explicit mode).
// TLS everywhere: 1.3 only, TLS_AES_128_GCM_SHA256, ECDSA P-256 leaves, TCP_NODELAY on every socket.
// A condition whose tool is missing is skipped with the Debian package that provides it.
import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Proc } from '../../../e2e/scenario/processes';
import { freePort, LoopbackScenario } from '../../../e2e/scenario/loopback';
import type { BenchPki } from './pki';

export type ConditionName = 'direct' | 'relay' | 'stunnel' | 'haproxy' | 'palisade';

export interface Condition {
  name: ConditionName;
  label: string;
  /** Where the load generator connects (the client-side proxy, or the backend for `direct`). */
  port: number;
  /** The same path with the client side's TLS session resumption turned off (TLS conditions only). */
  noResumePort?: number;
  /** The processes that carry the condition's traffic (CPU and RSS are theirs). */
  pids(): number[];
  stop(): Promise<void>;
}

export interface Skipped {
  name: ConditionName;
  reason: string;
}

const ROOT = join(__dirname, '..', '..', '..', '..');
const DIST = join(ROOT, 'dist');

export function which(paths: string[]): string | null {
  return paths.find((p) => existsSync(p)) ?? null;
}
export const HAPROXY = which(['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy']);
export const STUNNEL = which(['/usr/bin/stunnel4', '/usr/bin/stunnel', '/usr/local/bin/stunnel']);

/** Resolves once something accepts on 127.0.0.1:port; rejects after `timeoutMs` or when `proc` exits. */
export async function waitPort(port: number, proc?: Proc, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) {
      return;
    }
    if ((proc && !proc.running) || Date.now() > deadline) {
      throw new Error(`nothing listens on ${port}${proc ? ` (${proc.name}: ${proc.stderr.slice(-800)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startProc(name: string, argv: string[], port: number, env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  const p = new Proc(name, argv, env);
  await waitPort(port, p);
  return p;
}

/** A: the load generator talks to the backend itself. */
export function direct(backendPort: number): Condition {
  return { name: 'direct', label: 'A direct', port: backendPort, pids: () => [], stop: async () => undefined };
}

const HAPROXY_GLOBAL = [
  'global',
  '  maxconn 8000',
  '  ssl-default-bind-options ssl-min-ver TLSv1.3',
  '  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256',
  '  ssl-default-server-options ssl-min-ver TLSv1.3',
  '  ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256',
  'defaults',
  '  mode tcp',
  '  timeout connect 5s',
  '  timeout client 300s',
  '  timeout server 300s',
];

/** A TLS proxy pair as a condition: server and client side, and a client side without session resumption. */
function tlsPair(name: 'haproxy' | 'stunnel', label: string, s: { proc: Proc }, c: { proc: Proc; port: number }, nr: { proc: Proc; port: number }): Condition {
  return {
    name,
    label,
    port: c.port,
    noResumePort: nr.port,
    pids: () => [s.proc.pid, c.proc.pid],
    stop: async () => void (await Promise.all([s.proc.stop(), c.proc.stop(), nr.proc.stop()])),
  };
}

async function haproxyProc(dir: string, name: string, frontend: string, server: string): Promise<{ proc: Proc; port: number }> {
  const port = await freePort();
  const cfg = join(dir, `${name}.cfg`);
  writeFileSync(cfg, [...HAPROXY_GLOBAL, 'frontend f', `  bind 127.0.0.1:${port}${frontend}`, '  default_backend b', 'backend b', `  server s ${server}`, ''].join('\n'));
  return { proc: await startProc(name, [HAPROXY!, '-db', '-f', cfg], port), port };
}

/** B: two HAProxy processes in `mode tcp`, plaintext — what a relay costs without any cryptography. */
export async function relay(dir: string, backendPort: number): Promise<Condition | Skipped> {
  if (!HAPROXY) {
    return { name: 'relay', reason: 'haproxy not installed (Debian package: haproxy)' };
  }
  const s = await haproxyProc(dir, 'relay-server', '', `127.0.0.1:${backendPort}`);
  const c = await haproxyProc(dir, 'relay-client', '', `127.0.0.1:${s.port}`);
  return { name: 'relay', label: 'B relay pair (HAProxy tcp)', port: c.port, pids: () => [s.proc.pid, c.proc.pid], stop: async () => void (await Promise.all([s.proc.stop(), c.proc.stop()])) };
}

/** D: an HAProxy pair doing mutual TLS (`verify required` on both ends). */
export async function haproxyTls(dir: string, pki: BenchPki, backendPort: number): Promise<Condition | Skipped> {
  if (!HAPROXY) {
    return { name: 'haproxy', reason: 'haproxy not installed (Debian package: haproxy)' };
  }
  const s = await haproxyProc(dir, 'haproxy-server', ` ssl crt ${pki.serverCombined} ca-file ${pki.ca} verify required`, `127.0.0.1:${backendPort}`);
  const tls = `127.0.0.1:${s.port} ssl crt ${pki.clientCombined} ca-file ${pki.ca} verify required verifyhost localhost`;
  const c = await haproxyProc(dir, 'haproxy-client', '', tls);
  const nr = await haproxyProc(dir, 'haproxy-client-noreuse', '', `${tls} no-ssl-reuse`);
  return tlsPair('haproxy', 'D HAProxy mTLS pair', s, c, nr);
}

/** C: an stunnel pair, client certificates required and verified against the CA. */
export async function stunnel(dir: string, pki: BenchPki, backendPort: number): Promise<Condition | Skipped> {
  if (!STUNNEL) {
    return { name: 'stunnel', reason: 'stunnel not installed (Debian package: stunnel4)' };
  }
  // debug = 4: stunnel's default (5) logs every connection, a cost Palisade's agents do not pay per flow.
  const common = ['foreground = yes', 'pid =', 'debug = 4', 'socket = l:TCP_NODELAY=1', 'socket = r:TCP_NODELAY=1', `CAfile = ${pki.ca}`, 'verifyChain = yes', 'sslVersionMin = TLSv1.3', 'ciphersuites = TLS_AES_128_GCM_SHA256'];
  const one = async (name: string, lines: string[]): Promise<{ proc: Proc; port: number }> => {
    const port = await freePort();
    const cfg = join(dir, `${name}.conf`);
    writeFileSync(cfg, [...common, `[${name}]`, `accept = 127.0.0.1:${port}`, ...lines, ''].join('\n'));
    return { proc: await startProc(name, [STUNNEL, cfg], port), port };
  };
  const s = await one('stunnel-server', [`connect = 127.0.0.1:${backendPort}`, `cert = ${pki.serverCert}`, `key = ${pki.serverKey}`, 'requireCert = yes']);
  const client = ['client = yes', `connect = 127.0.0.1:${s.port}`, `cert = ${pki.clientCert}`, `key = ${pki.clientKey}`];
  const c = await one('stunnel-client', client);
  const nr = await one('stunnel-client-noresume', [...client, 'sessionResume = no']);
  return tlsPair('stunnel', 'C stunnel mTLS pair', s, c, nr);
}

export interface PalisadeCondition extends Condition {
  scenario: LoopbackScenario;
  /** Restarts an agent with extra environment (e.g. resumption off) and node flags (e.g. --cpu-prof). */
  restartAgent(name: 'client' | 'server', env: NodeJS.ProcessEnv, nodeArgs?: string[]): Promise<void>;
  appPort: number;
}

/**
 * E: the loopback scenario in direct mode — a real control plane (embedded PGlite), enrolled agents, the seed
 * policy and service. Its echo server is stopped so the benchmark's backend can take the application port.
 */
export async function palisade(dir: string, step: (l: string) => void): Promise<PalisadeCondition> {
  // The agent pair as the benchmark conditions have it: no process rules (every local client is the host identity,
  // tagged app=client), so no per-connection /proc lookup.
  const scenario = new LoopbackScenario({ dataDir: dir, direct: true, clientByHost: true, step });
  await scenario.start();
  // The scenario's echo server answers lines; the benchmark needs its sink/echo backend on that port.
  const procs = (scenario as unknown as { procs: Proc[] }).procs;
  await procs.find((p) => p.name === 'echo-server')?.stop();
  const own = new Map<string, Proc>();
  const pid = (name: string): number => (own.get(name) ?? scenario.agents.get(name))?.pid ?? -1;
  const cond: PalisadeCondition = {
    name: 'palisade',
    label: 'E Palisade agent pair',
    port: scenario.ports.clientSvc,
    scenario,
    appPort: scenario.ports.app,
    pids: () => [pid('server'), pid('client')],
    restartAgent: async (name, env, nodeArgs = []) => {
      await (own.get(name) ?? scenario.agents.get(name))?.stop();
      const p = new Proc(`agent-${name}`, [process.execPath, ...nodeArgs, join(DIST, 'apps/agent/src/main.js'), 'run', '-c', join(dir, 'agents', `${name}.yaml`)], env);
      own.set(name, p);
      await waitPort(name === 'client' ? scenario.ports.clientSvc : scenario.ports.serverTls, p, 30_000);
    },
    stop: async () => {
      await Promise.allSettled([...own.values()].map((p) => p.stop()));
      await scenario.stop();
    },
  };
  return cond;
}
