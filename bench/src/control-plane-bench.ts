// Benchmark of the control plane: cold start (process start → "listening" logged, on a fresh data
// directory and again on an existing one) and requests/s of a GET list with autocannon. The control
// plane runs as its own process (dist/apps/control-plane/src/main.js) so autocannon does not share its
// event loop. Prints figures; asserts nothing.
//   node tools/build.mjs && node dist/bench/src/control-plane-bench.js
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ... (also measures on Postgres)
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { runMain } from './run-main';

// autocannon ships no types; this is the part of its API used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (o: Record<string, unknown>) => Promise<{ requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number }>;

const MAIN = join(__dirname, '..', '..', 'apps', 'control-plane', 'src', 'main.js');
export const TOKEN = `bench-${randomBytes(16).toString('hex')}`;
const SECONDS = Number(process.env.CP_BENCH_SECONDS ?? 10);

export interface Running {
  child: ChildProcess;
  url: string;
  ms: number;
}

/** Starts the control-plane process; resolves when it logs its URL, with the time that took. */
export function start(dataDir: string, databaseUrl: string, nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<Running> {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [...nodeArgs, MAIN], {
    env: { ...process.env, PALISADE_DATA_DIR: dataDir, PALISADE_LISTEN: '127.0.0.1:0', PALISADE_ADMIN_TOKEN: TOKEN, DATABASE_URL: databaseUrl, PALISADE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (c: Buffer): void => {
      buf += c.toString();
      const m = /"url":"([^"]+)"/.exec(buf);
      if (m) {
        // From here the log is drained unread: keeping and re-scanning it would load the measuring process.
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve({ child, url: m[1], ms: Number(process.hrtime.bigint() - t0) / 1e6 });
      }
    };
    child.stdout?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`control plane exited with ${code}`)));
  });
}

/** SIGTERM, resolved on exit. */
export function stop(r: Running): Promise<void> {
  return new Promise((resolve) => {
    r.child.removeAllListeners('exit');
    const t = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
    r.child.on('exit', () => (clearTimeout(t), resolve()));
    r.child.kill('SIGTERM');
  });
}

function call(url: string, ca: string, method: string, path: string, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${url}${path}`, { method, ca, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(data);
  });
}

export interface ControlPlaneBasics {
  coldStartMs: number;
  warmStartMs: number;
  getListRps: number;
  getListP99Ms: number;
  non2xx: number;
}

/**
 * Cold start (fresh data directory: initdb, migrations, CA) and restart times of the control-plane process, then
 * GET /v1/processingunits (50 objects) requests/s with autocannon, 10 connections for `seconds`.
 */
export async function measure(label: string, databaseUrl: string, seconds = SECONDS): Promise<ControlPlaneBasics> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-'));
  try {
    const cold = await start(dir, databaseUrl);
    await stop(cold);
    const warm = await start(dir, databaseUrl);
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    await call(warm.url, ca, 'POST', '/v1/namespaces', { name: '/bench' });
    for (let i = 0; i < 50; i++) {
      await call(warm.url, ca, 'POST', '/v1/processingunits', { name: `pu-${i}`, namespace: '/bench', type: 'HostService', associatedTags: [`app=a${i % 5}`], ports: ['tcp/8106'] });
    }
    const u = new URL(warm.url);
    const result = await autocannon({
      url: `${warm.url}/v1/processingunits?namespace=/bench`,
      connections: 10,
      duration: seconds,
      headers: { authorization: `Bearer ${TOKEN}` },
      tlsOptions: { ca, servername: 'localhost' },
      hostname: u.hostname,
    });
    await stop(warm);
    console.log(`${label}: cold start (fresh data dir: initdb/migrations/CA) ${cold.ms.toFixed(0)} ms; start on existing data ${warm.ms.toFixed(0)} ms`);
    console.log(`${label}: GET /v1/processingunits (50 objects, 10 connections, ${seconds}s): ${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`);
    return { coldStartMs: cold.ms, warmStartMs: warm.ms, getListRps: result.requests.average, getListP99Ms: result.latency.p99, non2xx: result.non2xx };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `fn` with the URL of a fresh database on the Postgres server at `server`, dropped afterwards. */
export async function withBenchDatabase<T>(server: string, fn: (url: string) => Promise<T>): Promise<T> {
  const name = `palisade_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const u = new URL(server);
      u.pathname = `/${name}`;
      return await fn(u.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  await measure('pglite', '');
  const server = process.env.BENCH_DATABASE_URL;
  if (server) {
    await withBenchDatabase(server, (url) => measure('postgres', url));
  }
}

if (require.main === module) {
  runMain(main);
}
