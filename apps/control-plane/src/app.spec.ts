import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { fingerprint } from '@palisade/pki';
import { type TestApp, startTestApp } from './testing/test-app';
import { backends } from './testing/test-backends';

const MAIN = join(__dirname, 'main.js');

/** Starts dist/.../main.js and resolves with its URL once it logs "listening". */
function startMain(dataDir: string, port: number): Promise<{ url: string; stop(): Promise<number | null>; lines: string[] }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, DATABASE_URL: '', PALISADE_DATA_DIR: dataDir, PALISADE_LISTEN: `127.0.0.1:${port}`, PALISADE_ADMIN_TOKEN: '', PALISADE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        const rec = JSON.parse(line) as { msg: string; url?: string };
        if (rec.url) {
          resolve({ url: rec.url, lines, stop: () => new Promise((r) => { child.on('exit', (code) => r(code)); child.kill('SIGTERM'); }) });
        }
      }
    });
    child.stderr.on('data', (c: Buffer) => lines.push(c.toString()));
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${lines.join('\n')}`)));
  });
}

function get(url: string, token: string, ca: string, method = 'GET', body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body) {
      headers['content-type'] = 'application/json';
    }
    const req = request(url, { method, ca, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('control plane process', () => {
  it('main.ts: generates the admin token (0600), stops cleanly on SIGTERM, and data survives a restart (PGlite)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-main-'));
    try {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const first = await startMain(dir, port);
      const tokenFile = join(dir, 'admin-token');
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'kek')).mode & 0o777, 0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
      const listening = first.lines.map((l) => JSON.parse(l) as Record<string, string>).find((r) => r.url);
      assert.equal(listening?.caFingerprint, fingerprint(ca));
      assert.equal(listening?.adminTokenFile, tokenFile);
      assert.ok(!first.lines.join('\n').includes(token), 'the token itself is never logged');
      const created = await get(`${first.url}/v1/namespaces`, token, ca, 'POST', JSON.stringify({ name: '/persist' }));
      assert.equal(created.status, 201, created.text);
      assert.equal(await first.stop(), 0);

      const second = await startMain(dir, port);
      const list = await get(`${second.url}/v1/namespaces`, token, ca);
      assert.deepEqual((JSON.parse(list.text) as { name: string }[]).map((n) => n.name), ['/persist']);
      assert.equal(readFileSync(join(dir, 'ca.pem'), 'utf8'), ca, 'the CA is created once and reloaded');
      assert.equal(await second.stop(), 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('HTTPS and the unauthenticated endpoints', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp(backends()[0], { PALISADE_SERVER_NAMES: 'cp.example,10.1.2.3' });
  });
  after(async () => t?.stop());

  it('serves TLS 1.3 only, and asks for (without requiring) a client certificate', async () => {
    const ca = readFileSync(t.cp.caFile, 'utf8');
    const ok = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: t.cp.port, ca, servername: 'localhost' }, () => {
        resolve(String(s.getProtocol()));
        s.end();
      });
      s.on('error', reject);
    });
    assert.equal(ok, 'TLSv1.3');
    const old = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: t.cp.port, ca, maxVersion: 'TLSv1.2' }, () => resolve('connected'));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    assert.notEqual(old, 'connected');
  });

  it('the server certificate verifies with openssl against ca.pem and names the configured hosts', async () => {
    const pem = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: t.cp.port, ca: readFileSync(t.cp.caFile), servername: 'localhost' }, () => {
        const chain: string[] = [];
        let c = s.getPeerCertificate(true);
        const seen = new Set<string>();
        while (c && !seen.has(c.fingerprint256)) {
          seen.add(c.fingerprint256);
          chain.push(`-----BEGIN CERTIFICATE-----\n${c.raw.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
          c = c.issuerCertificate;
        }
        s.end();
        resolve(chain.join(''));
      });
      s.on('error', reject);
    });
    const dir = await mkdtemp(join(tmpdir(), 'palisade-x509-'));
    try {
      const [leaf, issuing] = pem.split(/(?<=-----END CERTIFICATE-----\n)/);
      writeFileSync(join(dir, 'leaf.pem'), leaf);
      writeFileSync(join(dir, 'issuing.pem'), issuing);
      const out = execFileSync('openssl', ['verify', '-CAfile', t.cp.caFile, '-untrusted', join(dir, 'issuing.pem'), join(dir, 'leaf.pem')]).toString();
      assert.match(out, /leaf\.pem: OK/);
      const text = execFileSync('openssl', ['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-ext', 'subjectAltName']).toString();
      for (const n of ['DNS:localhost', 'DNS:cp.example', 'IP Address:127.0.0.1', 'IP Address:10.1.2.3']) {
        assert.ok(text.includes(n), `${n} in ${text}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('healthz, readyz, metrics and openapi.json answer without a token; /v1 does not', async () => {
    assert.deepEqual((await t.call('GET', '/healthz', { token: null })).body, { status: 'ok' });
    assert.deepEqual((await t.call('GET', '/readyz', { token: null })).body, { status: 'ok' });
    const metrics = await t.call('GET', '/metrics', { token: null });
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /palisade_http_request_duration_seconds_bucket/);
    const api = await t.call('GET', '/openapi.json', { token: null });
    assert.equal(api.status, 200);
    assert.ok(api.body.paths['/v1/networkaccesspolicies']);
    assert.ok(api.body.components.schemas.CreateNetworkPolicyDto.properties.encryptionEnabled);
    assert.equal((await t.call('GET', '/v1/namespaces', { token: null })).status, 401);
  });

  it('echoes a well-formed X-Request-Id in the envelope, replaces a bad one', async () => {
    const r = await t.call('GET', '/v1/processingunits/nope', { headers: { 'x-request-id': 'trace-123' } });
    assert.equal(r.body.requestId, 'trace-123');
    const bad = await t.call('GET', '/v1/processingunits/nope', { headers: { 'x-request-id': 'bad id with spaces' } });
    assert.match(bad.body.requestId, /^[0-9a-f-]{36}$/);
  });
});
