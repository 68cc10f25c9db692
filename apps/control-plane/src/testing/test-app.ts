// Test support (not a spec): an in-process control plane and a small HTTPS client that trusts its ca.pem.
import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { type Type } from '@nestjs/common';
import { type ControlPlane, startControlPlane } from '../app';
import { JsonLogger } from '../common/json-logger';
import { type Backend, TEST_ADMIN_TOKEN, testConfig } from './test-backends';

export interface Reply<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: T;
}

export interface TestApp {
  cp: ControlPlane;
  adminToken: string;
  /** Sends a request; a plain object body is JSON, a string body is sent as is with `contentType`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test replies are asserted field by field
  call<T = any>(method: string, path: string, o?: { token?: string | null; body?: unknown; contentType?: string; headers?: Record<string, string> }): Promise<Reply<T>>;
  stop(): Promise<void>;
}

export async function startTestApp(backend: Backend, env: Record<string, string> = {}, extraModules: Type[] = []): Promise<TestApp> {
  const prepared = await backend.prepare();
  const config = testConfig(prepared.dataDir, prepared.databaseUrl, env);
  const cp = await startControlPlane(config, { logger: new JsonLogger('error', () => undefined), extraModules });
  const ca = await readFile(cp.caFile, 'utf8');
  const call: TestApp['call'] = (method, path, o = {}) =>
    new Promise((resolve, reject) => {
      const token = o.token === undefined ? TEST_ADMIN_TOKEN : o.token;
      const raw = o.body === undefined ? undefined : typeof o.body === 'string' || Buffer.isBuffer(o.body) ? o.body : JSON.stringify(o.body);
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (token) {
        headers.authorization = `Bearer ${token}`;
      }
      if (raw !== undefined) {
        headers['content-type'] = o.contentType ?? (typeof o.body === 'string' ? 'application/yaml' : 'application/json');
        headers['content-length'] = String(Buffer.byteLength(raw));
      }
      const req = httpsRequest(`${cp.url}${path}`, { method, headers, ca, servername: 'localhost' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: body as never });
        });
      });
      req.on('error', reject);
      if (raw !== undefined) {
        req.write(raw);
      }
      req.end();
    });
  return {
    cp,
    adminToken: TEST_ADMIN_TOKEN,
    call,
    async stop() {
      await cp.close();
      await prepared.cleanup();
    },
  };
}
