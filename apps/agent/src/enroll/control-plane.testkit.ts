// Test support (not a spec): a real control plane in a child process (the built binary, PGlite in a temp data
// directory), so the agent's specs exercise enrollment and the channel end to end without importing the control
// plane's code (the agent may depend on shared libraries only).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(__dirname, '..', '..', '..', '..', '..');
const ADMIN = 'agent-spec-admin-token-0123456789abcdef';

export interface ControlPlaneProcess {
  url: string;
  ca: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserted field by field
  stop(): Promise<void>;
}

/** Starts dist/apps/control-plane/src/main.js on 127.0.0.1:0 and waits for its "listening" log line. */
export async function startControlPlaneProcess(): Promise<ControlPlaneProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'palisade-agent-cp-'));
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist/apps/control-plane/src/main.js')], {
    env: { ...process.env, PALISADE_LISTEN: '127.0.0.1:0', PALISADE_DATA_DIR: dataDir, PALISADE_ADMIN_TOKEN: ADMIN, PALISADE_LOG_LEVEL: 'info', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((ok, fail) => {
    const lines: string[] = [];
    const onLine = (l: string) => {
      lines.push(l);
      const m = /"url":"(https:\/\/[^"]+)"/.exec(l);
      if (m) {
        ok(m[1]);
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => fail(new Error(`control plane exited ${code}: ${lines.join('\n')}`)));
  });
  const ca = await readFile(join(dataDir, 'ca.pem'), 'utf8');
  return {
    url,
    ca,
    call: (method, path, body) =>
      new Promise((ok, fail) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = request(`${url}${path}`, { method, ca, headers: { authorization: `Bearer ${ADMIN}`, ...(data ? { 'content-type': 'application/json' } : {}) } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => ok({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
        });
        req.on('error', fail);
        req.end(data);
      }),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
