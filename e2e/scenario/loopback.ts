// The seed scenario on loopback, with no root and no database server: the control plane on the embedded
// database, a server agent and two client agents in explicit mode, an unmodified echo server and line client, and
// HAProxy (`mode tcp`) — or a plain TCP forwarder when HAProxy is not installed — standing in for the load
// balancer. Used by `npm start` (the demo), the loopback integration tests and the benchmark.
/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are untyped JSON here; the specs assert their shape */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { Proc } from './processes';
import { startForwarder } from './forwarder';
import { foreignClientCertificate } from './foreign-ca';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const DIST = join(ROOT, 'dist');
export const NAMESPACE = '/aporeto/lbtest3';
export const SERVICE_NAME = 'service_mylbtest3_7106_to_8106';

export interface LoopbackOptions {
  /** Everything the scenario keeps (control-plane data, agents' state) lives below this directory. */
  dataDir: string;
  /** The control plane's own data directory (default `<dataDir>/control-plane`). */
  cpDataDir?: string;
  /** A Postgres URL; unset → the control plane's embedded PGlite in the data directory. */
  databaseUrl?: string;
  /** Fixed ports (the demo prefers the seed's own 7106/8106 when free); 0 or unset → any free port. */
  lbPort?: number;
  cpPort?: number;
  /** Force the built-in forwarder even where HAProxy is installed. */
  forwarderOnly?: boolean;
  /** No load balancer: the service is dialled straight at the server agent (the benchmark's agent pair). */
  direct?: boolean;
  /**
   * The client agent gives every local process its host identity, tagged app=client, instead of matching the
   * client process by uid (no per-connection /proc lookup: the benchmark's agent pair).
   */
  clientByHost?: boolean;
  step?: (line: string) => void;
}

export interface ClientOutcome {
  ok: boolean;
  replies: string[];
  result: string;
}

export async function freePort(preferred = 0): Promise<number> {
  const tryPort = (p: number) =>
    new Promise<number>((resolve, reject) => {
      const s: Server = createServer();
      s.once('error', reject);
      s.listen(p, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
  if (preferred) {
    try {
      return await tryPort(preferred);
    } catch {
      // taken: any port will do
    }
  }
  return tryPort(0);
}

function haproxyPath(): string | null {
  for (const p of ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy']) {
    if (existsSync(p)) {
      return p;
    }
  }
  return null;
}

export class LoopbackScenario {
  cp: Proc | null = null;
  readonly agents = new Map<string, Proc>();
  private readonly procs: Proc[] = [];
  private forwarder: Server | null = null;
  adminToken = '';
  ports = { cp: 0, lb: 0, app: 0, serverTls: 0, clientSvc: 0, otherSvc: 0 };
  lbKind: 'haproxy' | 'forwarder' = 'forwarder';
  agentIds: Record<string, string> = {};

  constructor(readonly o: LoopbackOptions) {}

  private step(line: string): void {
    this.o.step?.(line);
  }

  get cpDir(): string {
    return this.o.cpDataDir ?? join(this.o.dataDir, 'control-plane');
  }

  get caFile(): string {
    return join(this.cpDir, 'ca.pem');
  }

  get cpUrl(): string {
    return `https://127.0.0.1:${this.ports.cp}`;
  }

  /** Where a process's output goes: `<dataDir>/logs/<name>.log`. */
  logFile(name: string): string {
    mkdirSync(join(this.o.dataDir, 'logs'), { recursive: true });
    return join(this.o.dataDir, 'logs', `${name}.log`);
  }

  stateDir(agent: string): string {
    return join(this.o.dataDir, 'agents', agent);
  }

  async start(): Promise<void> {
    mkdirSync(join(this.o.dataDir, 'agents'), { recursive: true, mode: 0o700 });
    const saved = join(this.o.dataDir, 'ports.json');
    const prev = existsSync(saved) ? (JSON.parse(readFileSync(saved, 'utf8')) as Partial<typeof this.ports>) : {};
    this.ports = {
      cp: await freePort(this.o.cpPort ?? prev.cp ?? 0),
      lb: await freePort(this.o.lbPort ?? prev.lb ?? 0),
      app: await freePort(prev.app ?? 0),
      serverTls: await freePort(prev.serverTls ?? 0),
      clientSvc: await freePort(prev.clientSvc ?? 0),
      otherSvc: await freePort(prev.otherSvc ?? 0),
    };
    writeFileSync(saved, JSON.stringify(this.ports));
    await this.startControlPlane();
    await this.applySeeds();
    await this.startApplication();
    await this.startLoadBalancer();
    for (const [name, tags] of [['server', []], ['client', ['app=client']], ['other', []]] as const) {
      await this.enroll(name, [...tags]);
    }
    await this.startAgent('server', [
      'hostServices:',
      '  - name: tcp:8106',
      '    port: 8106',
      `    listenPort: ${this.ports.serverTls}`,
      `    target: 127.0.0.1:${this.ports.app}`,
    ]);
    const uid = process.getuid?.() ?? 0;
    await this.startAgent('client', [
      ...(this.o.clientByHost
        ? ['host:', '  name: client-app', '  tags: [app=client]']
        : ['processes:', '  - name: client-app', `    user: ${uid}`, '    tags: [app=client]']),
      'services:',
      `  - name: ${SERVICE_NAME}`,
      `    listenPort: ${this.ports.clientSvc}`,
    ]);
    await this.startAgent('other', ['host:', '  name: other-host', 'services:', `  - name: ${SERVICE_NAME}`, `    listenPort: ${this.ports.otherSvc}`]);
    await this.waitReady();
  }

  async startControlPlane(): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      PALISADE_LISTEN: `127.0.0.1:${this.ports.cp}`,
      PALISADE_DATA_DIR: this.cpDir,
      PALISADE_LOG_LEVEL: 'warn',
    };
    if (this.o.databaseUrl) {
      env.DATABASE_URL = this.o.databaseUrl;
    } else {
      delete process.env.DATABASE_URL;
    }
    this.cp = new Proc('control-plane', [process.execPath, join(DIST, 'apps/control-plane/src/main.js')], env, this.logFile('control-plane'));
    this.procs.push(this.cp);
    await this.waitForHealth();
    this.adminToken = process.env.PALISADE_ADMIN_TOKEN ?? readFileSync(join(this.cpDir, 'admin-token'), 'utf8').trim();
    this.step(`control plane listening on ${this.cpUrl} (${this.o.databaseUrl ? 'Postgres' : 'embedded PGlite in ' + this.cpDir})`);
  }

  async stopControlPlane(): Promise<void> {
    await this.cp?.stop();
    this.cp = null;
  }

  private async waitForHealth(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (existsSync(this.caFile)) {
        try {
          const r = await this.request('GET', '/readyz', undefined, false);
          if (r.status === 200) {
            return;
          }
        } catch {
          // not up yet
        }
      }
      if (this.cp && !this.cp.running) {
        throw new Error(`the control plane exited: ${this.cp.stderr.slice(-3000)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`the control plane did not become ready: ${this.cp?.stderr.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  request(method: string, path: string, body?: unknown, auth = true): Promise<{ status: number; body: any }> {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.ports.cp,
          path,
          method,
          ca: readFileSync(this.caFile),
          headers: {
            ...(auth ? { authorization: `Bearer ${this.adminToken}` } : {}),
            ...(data ? { 'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json', 'content-length': data.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              // not JSON (metrics)
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  /** The seed service pointed at the stand-in load balancer on loopback. */
  serviceDocument(): string {
    const doc = parseDocument(readFileSync(join(ROOT, 'examples', 'seed-lb-service.yaml'), 'utf8'));
    const svc = doc.getIn(['data', 'services', 0]) as { set(k: string, v: unknown): void };
    svc.set('IPs', ['127.0.0.1']);
    svc.set('hosts', ['localhost']);
    svc.set('exposedPort', this.o.direct ? this.ports.serverTls : this.ports.lb);
    return doc.toString();
  }

  async applySeeds(): Promise<void> {
    const pol = await this.request('POST', `/v1/import?createNamespaces=true&namespace=${NAMESPACE}`, readFileSync(join(ROOT, 'examples', 'seed-policy.yaml'), 'utf8'));
    const svc = await this.request('POST', `/v1/import?namespace=${NAMESPACE}`, this.serviceDocument());
    if (pol.status !== 200 || svc.status !== 200) {
      throw new Error(`importing the seeds failed: ${JSON.stringify([pol.body, svc.body])}`);
    }
    this.step(`applied examples/seed-policy.yaml and seed-lb-service.yaml (service dialled at 127.0.0.1:${this.ports.lb})`);
  }

  private async startApplication(): Promise<void> {
    const p = new Proc('echo-server', [process.execPath, join(DIST, 'e2e/apps/echo-server.js'), '--port', String(this.ports.app), '--host', '127.0.0.1']);
    this.procs.push(p);
    await p.waitFor(/listening/);
    this.step(`unmodified echo server listening on 127.0.0.1:${this.ports.app} (it knows nothing of Palisade)`);
  }

  private async startLoadBalancer(): Promise<void> {
    if (this.o.direct) {
      this.step('no load balancer: the client agent dials the server agent directly');
      return;
    }
    const haproxy = this.o.forwarderOnly ? null : haproxyPath();
    const backend = { host: '127.0.0.1', port: this.ports.serverTls };
    if (haproxy) {
      const cfg = join(this.o.dataDir, 'haproxy.cfg');
      writeFileSync(
        cfg,
        [
          'global',
          '  maxconn 4000',
          'defaults',
          '  mode tcp',
          '  timeout connect 5s',
          '  timeout client 60s',
          '  timeout server 60s',
          'frontend lb',
          `  bind 127.0.0.1:${this.ports.lb}`,
          '  default_backend servers',
          'backend servers',
          `  server server1 ${backend.host}:${backend.port}`,
          '',
        ].join('\n'),
      );
      const p = new Proc('haproxy', [haproxy, '-db', '-f', cfg]);
      this.procs.push(p);
      await this.waitListening(this.ports.lb, 10_000, p);
      this.lbKind = 'haproxy';
    } else {
      this.forwarder = await startForwarder({ host: '127.0.0.1', port: this.ports.lb }, backend);
      this.lbKind = 'forwarder';
    }
    this.step(`load balancer (${this.lbKind === 'haproxy' ? 'HAProxy, mode tcp' : 'built-in TCP forwarder; HAProxy is not installed'}) on 127.0.0.1:${this.ports.lb} → 127.0.0.1:${this.ports.serverTls}`);
  }

  private async waitListening(port: number, timeoutMs = 10_000, proc?: Proc): Promise<void> {
    const { connect } = await import('node:net');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await new Promise<boolean>((r) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          r(true);
        });
        s.once('error', () => r(false));
      });
      if (ok) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`nothing listens on 127.0.0.1:${port}${proc ? `: ${proc.name} ${proc.running ? 'running' : 'exited'} ${proc.stderr.slice(-1000)}` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async enroll(name: string, tags: string[]): Promise<void> {
    const dir = this.stateDir(name);
    if (existsSync(join(dir, 'enrollment.json'))) {
      this.agentIds[name] = (JSON.parse(readFileSync(join(dir, 'enrollment.json'), 'utf8')) as { agentId: string }).agentId;
      const a = await this.request('GET', `/v1/agents/${this.agentIds[name]}`);
      if (a.status === 200 && !a.body.revoked) {
        this.step(`agent ${name} already enrolled (${this.agentIds[name]})`);
        return;
      }
    }
    const t = await this.request('POST', '/v1/enrollmenttokens', { namespace: NAMESPACE, tags });
    if (t.status !== 201) {
      throw new Error(`creating an enrollment token failed: ${JSON.stringify(t.body)}`);
    }
    const { stdout } = await run(process.execPath, [join(DIST, 'apps/agent/src/main.js'), 'enroll', t.body.token, '--state-dir', dir, '--name', name, '--force']);
    this.agentIds[name] = /agent (\S+) enrolled/.exec(stdout)?.[1] ?? '';
    this.step(`agent ${name} enrolled with a one-time token${tags.length ? ` allowing ${tags.join(', ')}` : ''}; its key never left ${dir}`);
  }

  private async startAgent(name: string, body: string[]): Promise<void> {
    const file = join(this.o.dataDir, 'agents', `${name}.yaml`);
    writeFileSync(file, [`stateDir: ${this.stateDir(name)}`, 'mode: explicit', 'metricsListen: null', ...body, ''].join('\n'));
    const p = new Proc(`agent-${name}`, [process.execPath, join(DIST, 'apps/agent/src/main.js'), 'run', '-c', file], {}, this.logFile(`agent-${name}`));
    this.procs.push(p);
    this.agents.set(name, p);
  }

  async stopAgent(name: string): Promise<void> {
    await this.agents.get(name)?.stop();
  }

  /** Every agent connected and in sync, with certificates for its units and its listeners open. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.request('GET', '/v1/agents').catch(() => ({ status: 0, body: [] }));
      const ids = Object.values(this.agentIds);
      const synced = r.status === 200 && ids.every((id) => (r.body as any[]).some((a) => a.id === id && a.connected && a.inSync));
      if (synced && this.statusOf('server')?.protectedPorts?.[0]?.listening && this.statusOf('client')?.services?.length && this.statusOf('other')?.services?.length) {
        this.step('agents connected, rule sets applied, certificates issued for every processing unit');
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`agents not ready: ${JSON.stringify(r.body).slice(0, 1500)}\n${[...this.agents.values()].map((a) => `${a.name}: ${a.stderr.slice(-1500)}`).join('\n')}`);
      }
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  statusOf(name: string): any {
    try {
      return JSON.parse(readFileSync(join(this.stateDir(name), 'status.json'), 'utf8'));
    } catch {
      return null;
    }
  }

  /** Runs the unmodified line client against a local port; resolves with what it saw. */
  async lineClient(port: number, lines: string[], extra: string[] = []): Promise<ClientOutcome> {
    const argv = [join(DIST, 'e2e/apps/line-client.js'), '--host', '127.0.0.1', '--port', String(port), '--timeout', '3000', ...lines.flatMap((l) => ['--line', l]), ...extra];
    const r = await run(process.execPath, argv).then(
      (x) => x.stdout,
      (e: { stdout?: string }) => e.stdout ?? '',
    );
    const replies = [...r.matchAll(/^reply (.*)$/gm)].map((m) => m[1]);
    const result = [...r.matchAll(/^result (.*)$/gm)].pop()?.[1] ?? 'none';
    return { ok: result.startsWith('ok'), replies, result };
  }

  /** The covered client (client-app on the client agent) through the agent and the load balancer. */
  client(lines: string[] = ['hello']): Promise<ClientOutcome> {
    return this.lineClient(this.ports.clientSvc, lines);
  }

  /** A client on the other host: its only identity is that host's, which no policy allows. */
  otherClient(lines: string[] = ['hello']): Promise<ClientOutcome> {
    return this.lineClient(this.ports.otherSvc, lines);
  }

  /** A plaintext client with no agent, through the load balancer. */
  rogueViaLb(): Promise<ClientOutcome> {
    return this.lineClient(this.ports.lb, ['rogue']);
  }

  /** A plaintext client with no agent, straight at the server's protected listener. */
  rogueDirect(): Promise<ClientOutcome> {
    return this.lineClient(this.ports.serverTls, ['rogue']);
  }

  /** A TLS client with a certificate from a CA Palisade does not trust, through the load balancer. */
  async foreignCa(): Promise<ClientOutcome> {
    const { cert, key } = foreignClientCertificate(join(this.o.dataDir, 'foreign-ca'));
    const r = await run(process.execPath, [join(DIST, 'e2e/scenario/foreign-client.js'), '127.0.0.1', String(this.ports.lb), cert, key]).then(
      (x) => x.stdout,
      (e: { stdout?: string }) => e.stdout ?? '',
    );
    const result = /^result (.*)$/m.exec(r)?.[1] ?? 'none';
    return { ok: result.startsWith('ok'), replies: [], result };
  }

  async policyId(): Promise<string | null> {
    const r = await this.request('GET', `/v1/networkaccesspolicies?namespace=${encodeURIComponent(NAMESPACE)}`);
    return (r.body as { id: string; name: string }[]).find((p) => p.name === 'client-to-mylbtest3')?.id ?? null;
  }

  async flowReports(): Promise<any[]> {
    const r = await this.request('GET', `/v1/flowreports?namespace=${encodeURIComponent(NAMESPACE)}`);
    return r.status === 200 ? (r.body as any[]) : [];
  }

  /** Stops everything this scenario started (agents first, so their redirect rules and flows close cleanly). */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.agents.values()].map((a) => a.stop()));
    await Promise.allSettled(this.procs.map((p) => p.stop()));
    await new Promise<void>((r) => (this.forwarder ? this.forwarder.close(() => r()) : r()));
  }
}
