// End-to-end tests of `palisade login`, profiles, environment overrides, TLS trust and exit statuses,
// against a real HTTPS server (the API double) with certificates made by the openssl CLI.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiDouble, envelope, startApiDouble } from './testing/api-double';
import { createTlsFixture, type TlsFixture } from './testing/tls-fixture';
import { runCli, runCliProcess } from './testing/run-cli';

describe('palisade login', () => {
  let tls: TlsFixture;
  let api: ApiDouble;
  let home: string;
  let env: Record<string, string>;

  before(async () => {
    tls = await createTlsFixture();
    api = await startApiDouble({ keyPem: tls.serverKeyPem, certPem: tls.serverCertPem });
  });
  after(async () => {
    await api.close();
    await tls.cleanup();
  });
  beforeEach(async () => {
    api.reset();
    if (home) {
      await rm(home, { recursive: true, force: true });
    }
    home = await mkdtemp(join(tmpdir(), 'palisade-cli-home-'));
    env = { HOME: home };
  });

  const configFile = () => join(home, '.config', 'palisade', 'config.json');

  it('verifies the token with GET /v1/namespaces, then stores the profile with mode 0600 and never prints the token', async () => {
    api.route('GET', '/v1/namespaces', { status: 200, body: [] });
    const r = await runCli(['login', '--url', api.url, '--token', 'tok-secret-123', '--ca', tls.caFile], { env });

    assert.deepEqual(r, { code: 0, stdout: `logged in to ${api.url} (profile default, saved in ${configFile()})\n`, stderr: '' });
    assert.equal(api.requests.length, 1);
    const [req] = api.requests;
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/v1/namespaces');
    assert.deepEqual(req.query, {});
    assert.equal(req.headers.authorization, 'Bearer tok-secret-123');
    assert.equal(req.headers.accept, 'application/json');
    assert.equal(req.headers['user-agent'], 'palisade-cli/0.1.0');
    assert.equal(req.body, '');
    assert.deepEqual(JSON.parse(await readFile(configFile(), 'utf8')), {
      current: 'default',
      profiles: { default: { url: api.url, token: 'tok-secret-123', caPem: tls.caPem } },
    });
    assert.equal((await stat(configFile())).mode & 0o777, 0o600);
    assert.equal((await stat(join(home, '.config', 'palisade'))).mode & 0o777, 0o700);
  });

  it('stores nothing when the API refuses the token, and prints the envelope as one line (exit 1)', async () => {
    api.route('GET', '/v1/namespaces', envelope(401, 'unauthorized', 'invalid or expired token'));
    const r = await runCli(['login', '--url', api.url, '--token', 'wrong', '--ca', tls.caFile], { env });
    assert.deepEqual(r, { code: 1, stdout: '', stderr: 'palisade: unauthorized: invalid or expired token\n' });
    await assert.rejects(stat(configFile()), { code: 'ENOENT' });
  });

  it('reads the token from stdin with --token -', async () => {
    api.route('GET', '/v1/namespaces', { status: 200, body: [] });
    const r = await runCli(['login', '--url', api.url, '--token', '-', '--ca', tls.caFile, '--profile', 'lab'], {
      env,
      stdin: 'tok-from-stdin\n',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(api.requests[0].headers.authorization, 'Bearer tok-from-stdin');
    const saved = JSON.parse(await readFile(configFile(), 'utf8'));
    assert.equal(saved.current, 'lab');
    assert.equal(saved.profiles.lab.token, 'tok-from-stdin');
  });

  it('refuses a server its CA did not sign — without --ca and with the wrong CA (exit 3, nothing sent)', async () => {
    const expected = `palisade: tls_untrusted: ${api.url} presented a certificate this CLI does not trust (UNABLE_TO_VERIFY_LEAF_SIGNATURE); pass --ca <data dir>/ca.pem to login or set PALISADE_CA\n`;
    for (const extra of [[], ['--ca', tls.otherCaFile]]) {
      const r = await runCli(['login', '--url', api.url, '--token', 't', ...extra], { env });
      assert.deepEqual(r, { code: 3, stdout: '', stderr: expected });
    }
    assert.equal(api.requests.length, 0);
    await assert.rejects(stat(configFile()), { code: 'ENOENT' });
  });

  it('reports a refused connection as connection_failed (exit 3)', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const r = await runCli(['login', '--url', `https://127.0.0.1:${port}`, '--token', 't', '--ca', tls.caFile], { env });
    assert.deepEqual(r, {
      code: 3,
      stdout: '',
      stderr: `palisade: connection_failed: cannot reach https://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    });
  });

  it('refuses plain http and a CA file that holds no certificate (exit 2, nothing sent)', async () => {
    const insecure = await runCli(['login', '--url', 'http://127.0.0.1:1', '--token', 't'], { env });
    assert.deepEqual(insecure, {
      code: 2,
      stdout: '',
      stderr: 'palisade: url_insecure: http://127.0.0.1:1: the control plane is only reached over https\n',
    });
    const notCa = await runCli(['login', '--url', api.url, '--token', 't', '--ca', join(tls.dir, 'server.ext')], { env });
    assert.deepEqual(notCa, { code: 2, stdout: '', stderr: `palisade: ca_invalid: ${join(tls.dir, 'server.ext')} does not hold a PEM certificate\n` });
    assert.equal(api.requests.length, 0);
  });

  it('later commands use the stored profile: its token, its CA', async () => {
    api.route('GET', '/v1/namespaces', { status: 200, body: [] });
    assert.equal((await runCli(['login', '--url', api.url, '--token', 'tok-1', '--ca', tls.caFile], { env })).code, 0);
    api.reset();
    api.route('GET', '/v1/services', { status: 200, body: [] });
    const r = await runCli(['get', 'svc', '-n', '/a'], { env });
    assert.deepEqual(r, { code: 0, stdout: '', stderr: 'No services found in /a.\n' });
    assert.equal(api.requests[0].headers.authorization, 'Bearer tok-1');
    assert.deepEqual(api.requests[0].query, { namespace: '/a' });
  });

  it('PALISADE_URL, PALISADE_TOKEN and PALISADE_CA work with no config file at all', async () => {
    api.route('GET', '/v1/agents', { status: 200, body: [] });
    const r = await runCli(['get', 'agents'], {
      env: { ...env, PALISADE_URL: api.url, PALISADE_TOKEN: 'tok-env', PALISADE_CA: tls.caFile },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(api.requests[0].headers.authorization, 'Bearer tok-env');
    await assert.rejects(stat(configFile()), { code: 'ENOENT' });
  });

  it('without a profile or environment, says how to log in (exit 2)', async () => {
    const r = await runCli(['get', 'pu'], { env });
    assert.deepEqual(r, {
      code: 2,
      stdout: '',
      stderr: 'palisade: not_logged_in: no control plane configured: run "palisade login --url URL --token TOKEN" or set PALISADE_URL and PALISADE_TOKEN\n',
    });
  });

  it('the built binary exits 1 for an API error, 2 for a usage error, 3 for no connection', async () => {
    api.route('GET', '/v1/namespaces', envelope(403, 'forbidden', 'viewer may not do this'));
    const base = { ...env, PALISADE_TOKEN: 't', PALISADE_CA: tls.caFile };
    const apiErr = await runCliProcess(['get', 'ns'], { env: { ...base, PALISADE_URL: api.url } });
    assert.deepEqual(apiErr, { code: 1, stdout: '', stderr: 'palisade: forbidden: viewer may not do this\n' });
    const usage = await runCliProcess(['get'], { env: { ...base, PALISADE_URL: api.url } });
    assert.deepEqual(usage, { code: 2, stdout: '', stderr: "palisade: usage: missing required argument 'identity' (see palisade --help)\n" });
    const conn = await runCliProcess(['get', 'ns'], { env: { ...base, PALISADE_URL: 'https://127.0.0.1:1' } });
    assert.equal(conn.code, 3);
    assert.match(conn.stderr, /^palisade: connection_failed: cannot reach https:\/\/127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1\n$/);
  });
});
