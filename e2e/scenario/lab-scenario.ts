// The seed scenario on the network-namespace lab: control plane in `cp` (on the machine's Postgres), HAProxy in
// `lb`, an unmodified echo server + agent (transparent) in `server`, an unmodified client + agent (transparent) in
// `client`, and `rogue` with no agent. The lab specs drive it; everything is torn down by lab.destroy().
/* eslint-disable @typescript-eslint/no-explicit-any -- API answers are untyped JSON here; the specs assert their shape */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { parseDocument } from 'yaml';
import {
  Lab,
  LB_PORT,
  LINE_CLIENT,
  lineClientArgv,
  parseClientOutput,
  SEED_LB_HOSTNAME,
  SERVER_PORT,
  runLineClient,
  startEchoServer,
  type ClientResult,
  type LabProcess,
  type Placement,
} from '../lab';

const ROOT = join(__dirname, '..', '..', '..');
const DIST = join(ROOT, 'dist');
export const CP_PORT = 8443;
export const NAMESPACE = '/aporeto/lbtest3';
/** The client process the policy covers runs as this uid; every other local process is the host identity. */
export const COVERED_UID = 4106;

export interface ApiResult {
  status: number;
  body: any;
}

/** The seed service, pointed at the lab's load balancer: its name (resolved by the hosts file) and address. */
export function labServiceDocument(lbAddress: string): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'examples', 'seed-lb-service.yaml'), 'utf8'));
  const svc = doc.getIn(['data', 'services', 0]) as { set(k: string, v: unknown): void };
  svc.set('hosts', [SEED_LB_HOSTNAME]);
  svc.set('IPs', [lbAddress]);
  return doc.toString();
}

export class LabScenario {
  readonly adminToken = `pal_${randomBytes(24).toString('base64url')}`;
  readonly database = `palisade_e2e_${randomBytes(4).toString('hex')}`;
  readonly dir: string;
  cp: LabProcess | null = null;
  serverAgent: LabProcess | null = null;
  clientAgent: LabProcess | null = null;
  agentIds: { server: string; client: string } = { server: '', client: '' };

  private constructor(readonly lab: Lab) {
    this.dir = join(lab.runtimeDir, 'scenario');
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
  }

  static async create(prefix: string): Promise<LabScenario> {
    Lab.cleanupStale(prefix);
    const lab = await Lab.create({ prefix, postgres: true });
    const s = new LabScenario(lab);
    try {
      await s.setUp();
    } catch (e) {
      await s.destroy();
      throw e;
    }
    return s;
  }

  get cpUrl(): string {
    return `https://${this.lab.address('cp')}:${CP_PORT}`;
  }

  get caFile(): string {
    return join(this.dir, 'cp-data', 'ca.pem');
  }

  /**
   * The unmodified client, copied where any uid can read it: the covered client runs as an unprivileged uid, and
   * a checkout under a private directory (CI's mktemp clone is 0700) would be out of its reach.
   */
  private clientCopy = '';

  private async setUp(): Promise<void> {
    const apps = join(this.lab.runtimeDir, 'apps');
    mkdirSync(apps, { recursive: true, mode: 0o755 });
    for (let d = apps; d !== dirname(d) && d.startsWith(this.lab.runtimeDir); d = dirname(d)) {
      chmodSync(d, 0o755);
    }
    chmodSync(dirname(this.lab.runtimeDir), 0o755);
    this.clientCopy = join(apps, 'line-client.js');
    copyFileSync(LINE_CLIENT, this.clientCopy);
    chmodSync(this.clientCopy, 0o644);
    const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${this.database}`);
    await admin.end();
    await this.startControlPlane();
    // The seeds: the policy creates the namespace, then the service, pointed at the lab's load balancer.
    const pol = await this.api('POST', `/v1/import?createNamespaces=true&namespace=${NAMESPACE}`, readFileSync(join(ROOT, 'examples', 'seed-policy.yaml'), 'utf8'));
    const svc = await this.api('POST', `/v1/import?namespace=${NAMESPACE}`, labServiceDocument(this.lab.address('lb')));
    if (pol.status !== 200 || svc.status !== 200) {
      throw new Error(`seed import failed: ${JSON.stringify([pol, svc])}`);
    }
    await startEchoServer(this.lab, 'server', { port: SERVER_PORT });
    await this.lab.startHaproxy({ listenPort: LB_PORT, backend: { host: this.lab.address('server'), port: SERVER_PORT } });
    this.agentIds.server = await this.enroll('server', []);
    this.agentIds.client = await this.enroll('client', ['app=client']);
    this.serverAgent = await this.startAgent('server', ['hostServices:', `  - port: ${SERVER_PORT}`].join('\n'));
    this.clientAgent = await this.startAgent(
      'client',
      ['processes:', '  - name: client-app', `    user: ${COVERED_UID}`, '    tags: [app=client]', 'host:', '  name: client-host'].join('\n'),
    );
    await this.waitForAgentsReady();
  }

  async startControlPlane(): Promise<void> {
    const env = {
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${this.database}`,
      PALISADE_LISTEN: `0.0.0.0:${CP_PORT}`,
      PALISADE_SERVER_NAMES: `${this.lab.address('cp')},cp.lab`,
      PALISADE_PUBLIC_URL: this.cpUrl,
      PALISADE_ADMIN_TOKEN: this.adminToken,
      PALISADE_DATA_DIR: join(this.dir, 'cp-data'),
      PALISADE_LOG_LEVEL: 'warn',
    };
    this.cp = this.lab.spawn('cp', [process.execPath, join(DIST, 'apps/control-plane/src/main.js')], { env });
    await this.lab.waitForListen('cp', CP_PORT, { process: this.cp, timeoutMs: 30_000 });
  }

  async stopControlPlane(): Promise<void> {
    await this.cp?.stop(5000, 'SIGTERM');
    this.cp = null;
  }

  /** Calls the API from inside the lab (the control plane's address is only reachable there). */
  async api(method: string, path: string, body?: unknown): Promise<ApiResult> {
    const argv = [process.execPath, join(DIST, 'e2e/scenario/api-call.js'), method, path];
    let input: string | undefined;
    if (body !== undefined) {
      argv.push('-');
      input = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const r = await this.lab.exec('cp', argv, {
      env: { PALISADE_URL: `https://127.0.0.1:${CP_PORT}`, PALISADE_TOKEN: this.adminToken, PALISADE_CA: this.caFile },
      input,
      timeoutMs: 15_000,
    });
    const m = /^(\d+)(?: (.*))?$/s.exec(r.stdout.trim());
    if (!m) {
      throw new Error(`api-call printed nothing useful: ${r.stdout} ${r.stderr}`);
    }
    return { status: Number(m[1]), body: m[2] ? JSON.parse(m[2]) : null };
  }

  private async enroll(host: 'server' | 'client', tags: string[]): Promise<string> {
    const t = await this.api('POST', '/v1/enrollmenttokens', { namespace: NAMESPACE, tags });
    if (t.status !== 201) {
      throw new Error(`token: ${JSON.stringify(t)}`);
    }
    const r = await this.lab.exec(host, [process.execPath, join(DIST, 'apps/agent/src/main.js'), 'enroll', t.body.token, '--state-dir', join(this.dir, `${host}-agent`), '--name', `${host}.lab`], { timeoutMs: 20_000 });
    const m = /agent (\S+) enrolled/.exec(r.stdout);
    if (!m) {
      throw new Error(`enroll on ${host} failed: ${r.stdout} ${r.stderr}`);
    }
    return m[1];
  }

  private async startAgent(host: 'server' | 'client', body: string): Promise<LabProcess> {
    const file = join(this.dir, `${host}-agent.yaml`);
    writeFileSync(file, [`stateDir: ${join(this.dir, `${host}-agent`)}`, 'mode: transparent', 'metricsListen: 127.0.0.1:9106', body, ''].join('\n'));
    return this.lab.spawn(host, [process.execPath, join(DIST, 'apps/agent/src/main.js'), 'run', '-c', file]);
  }

  /** Both agents connected, holding certificates for their units, with rule sets applied (GET /v1/agents). */
  async waitForAgentsReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.api('GET', '/v1/agents');
      const ready =
        r.status === 200 &&
        [this.agentIds.server, this.agentIds.client].every((id) => (r.body as any[]).some((a) => a.id === id && a.connected && a.inSync));
      const statusOk = ready && (await this.agentHasCertificates('server', 1)) && (await this.agentHasCertificates('client', 2));
      if (statusOk) {
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`agents not ready: ${JSON.stringify(r.body)}\nserver agent: ${this.serverAgent?.stderr.slice(-2000)}\nclient agent: ${this.clientAgent?.stderr.slice(-2000)}`);
      }
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  private async agentHasCertificates(host: 'server' | 'client', n: number): Promise<boolean> {
    const r = await this.lab.exec(host, [process.execPath, join(DIST, 'apps/agent/src/main.js'), 'status', '--state-dir', join(this.dir, `${host}-agent`), '-o', 'json']);
    try {
      const s = JSON.parse(r.stdout);
      return s.running && s.status.certificates.length >= n + 1 && (host === 'client' ? s.status.services.length > 0 : s.status.protectedPorts[0].listening !== null);
    } catch {
      return false;
    }
  }

  /** The unmodified client, run on the client host, dialling the load balancer by the seed's host name. */
  async client(o: { uid?: number; lines?: string[]; to?: string; port?: number } = {}): Promise<ClientResult> {
    const uid = o.uid ?? COVERED_UID;
    const argv = this.clientArgv({ to: o.to ?? SEED_LB_HOSTNAME, port: o.port ?? LB_PORT, lines: o.lines ?? ['hello'], timeoutMs: 3000 });
    const r = await this.lab.exec('client', argv, { uid, gid: uid, cwd: '/', timeoutMs: 30_000 });
    return { ...r, ...parseClientOutput(r.stdout) };
  }

  private clientArgv(o: Parameters<typeof lineClientArgv>[0]): string[] {
    const argv = lineClientArgv(o);
    argv[1] = this.clientCopy;
    return argv;
  }

  holdClient(lines: string[] = ['held']): LabProcess {
    return this.lab.spawn('client', this.clientArgv({ to: SEED_LB_HOSTNAME, port: LB_PORT, lines, hold: true, timeoutMs: 3000 }), { uid: COVERED_UID, gid: COVERED_UID, cwd: '/' });
  }

  rogue(to: string, port: number): Promise<ClientResult> {
    return runLineClient(this.lab, 'rogue', { to, port, lines: ['rogue'], timeoutMs: 3000 });
  }

  async run(host: Placement, argv: string[]) {
    return this.lab.exec(host, argv, { timeoutMs: 20_000 });
  }

  async destroy(): Promise<void> {
    try {
      await this.lab.destroy();
    } finally {
      const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      try {
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`);
      } catch {
        // best effort: the database is uniquely named and harmless
      } finally {
        await admin.end().catch(() => undefined);
      }
    }
  }
}

/** Polls `check` until it holds or `withinMs` passes; returns whether it held (the behaviour's deadline). */
export async function within(withinMs: number, check: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) {
      return true;
    }
    if (Date.now() > deadline) {
      return false;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
