import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCertificate } from '@palisade/pki';
import { decodeEnrollmentToken, encodeEnrollmentToken } from '@palisade/protocol';
import { enroll, EnrollError, type EnrollErrorCode } from './enroll';
import { type ControlPlaneProcess, ROOT, startControlPlaneProcess } from './control-plane.testkit';

const NS = '/aporeto/lbtest3';
const pems = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

describe('palisade-agent enroll', () => {
  let cp: ControlPlaneProcess;
  let work: string;
  let n = 0;
  const stateDir = () => join(work, `state-${++n}`);
  const newToken = async (o: Record<string, unknown> = {}) => {
    const r = await cp.call('POST', '/v1/enrollmenttokens', { namespace: NS, tags: ['app=client'], ...o });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.token as string;
  };
  const refused = async (token: string, code: EnrollErrorCode, message: RegExp) => {
    const dir = stateDir();
    const lines: string[] = [];
    await assert.rejects(enroll({ token, stateDir: dir, log: (l) => lines.push(l) }), (e: unknown) => {
      assert.ok(e instanceof EnrollError, String(e));
      assert.equal(e.code, code);
      assert.match(e.message, message);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
    assert.equal(existsSync(dir) ? readdirSync(dir).length : 0, 0, 'nothing written to the state directory');
    return lines;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'palisade-enroll-'));
    cp = await startControlPlaneProcess();
    assert.equal((await cp.call('POST', '/v1/namespaces', { name: '/aporeto' })).status, 201);
    assert.equal((await cp.call('POST', '/v1/namespaces', { name: NS })).status, 201);
  });
  after(async () => {
    await cp?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('enrolls: a progress line per step; agent.key (0600), agent.crt, bundle.pem and enrollment.json written', async () => {
    const dir = stateDir();
    const lines: string[] = [];
    const r = await enroll({ token: await newToken(), stateDir: dir, name: 'web-1', log: (l) => lines.push(l) });
    assert.equal(r.namespace, NS);
    assert.equal(r.controlPlaneUrl, cp.url);
    assert.equal(lines.length, 4);
    assert.match(lines[0], new RegExp(`^token ok: control plane ${cp.url.replace(/[.]/g, '\\.')}, CA fingerprint [0-9a-f]{16}…$`));
    assert.equal(lines[1], 'control plane verified: its CA matches the token');
    assert.equal(lines[2], 'generated an ECDSA P-256 key locally; sending a certificate request');
    assert.equal(lines[3], `enrolled as agent ${r.agentId} in ${NS}; credentials stored in ${dir}`);
    assert.deepEqual(readdirSync(dir).sort(), ['agent.crt', 'agent.key', 'bundle.pem', 'enrollment.json', 'pus']);
    assert.equal(statSync(join(dir, 'agent.key')).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.match(readFileSync(join(dir, 'agent.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    const rec = JSON.parse(readFileSync(join(dir, 'enrollment.json'), 'utf8'));
    assert.deepEqual({ ...rec, enrolledAt: undefined }, { agentId: r.agentId, namespace: NS, controlPlaneUrl: cp.url, caFingerprint: decodeEnrollmentToken(await newToken()).caFingerprint, trustDomain: 'palisade.local', enrolledAt: undefined });

    // Real X.509: openssl verifies the chain to the control plane's ca.pem and prints the SAN and tags.
    const chain = pems(readFileSync(join(dir, 'agent.crt'), 'utf8'));
    assert.equal(chain.length, 2, 'leaf + issuing CA');
    writeFileSync(join(work, 'ca.pem'), cp.ca);
    writeFileSync(join(work, 'leaf.pem'), chain[0]);
    writeFileSync(join(work, 'issuing.pem'), chain[1]);
    const v = spawnSync('openssl', ['verify', '-CAfile', join(work, 'ca.pem'), '-untrusted', join(work, 'issuing.pem'), join(work, 'leaf.pem')], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), `${join(work, 'leaf.pem')}: OK`);
    const text = spawnSync('openssl', ['x509', '-text', '-noout', '-in', join(work, 'leaf.pem')], { encoding: 'utf8' }).stdout;
    assert.match(text, new RegExp(`URI:spiffe://palisade\\.local/ns/aporeto/lbtest3/agent/${r.agentId}\\n`));
    assert.match(text, /1\.3\.6\.1\.4\.1\.57264\.1\.1: \n[\s\S]*\$identity=agent[\s\S]*\$namespace=\/aporeto\/lbtest3/);
    assert.match(text, /\$hostname=web-1/);
    assert.equal(readCertificate(chain[0]).identity?.id, r.agentId);
    assert.equal((pems(readFileSync(join(dir, 'bundle.pem'), 'utf8'))[0] ?? '').trim(), cp.ca.trim(), 'the bundle starts with the root');
    await assert.rejects(enroll({ token: await newToken(), stateDir: dir }), (e: unknown) => e instanceof EnrollError && e.code === 'already_enrolled');
  });

  it('says unreachable for a control plane that does not answer (a closed port)', async () => {
    const t = decodeEnrollmentToken(await newToken());
    const port = await closedPort();
    await refused(encodeEnrollmentToken({ ...t, url: `https://127.0.0.1:${port}` }), 'unreachable', new RegExp(`^cannot reach the control plane at https://127\\.0\\.0\\.1:${port}: ECONNREFUSED$`));
  });

  it('refuses a control plane whose CA fingerprint differs from the token, before sending the secret', async () => {
    const token = await newToken();
    const t = decodeEnrollmentToken(token);
    const lines = await refused(encodeEnrollmentToken({ ...t, caFingerprint: 'ab'.repeat(32) }), 'fingerprint_mismatch', /is not the one the token names: its CA fingerprint is [0-9a-f]{64}, the token expects (ab){32}$/);
    assert.equal(lines.length, 1, 'stopped right after reading the token');
    // The single-use token was never presented: it still enrolls.
    const ok = await enroll({ token, stateDir: stateDir() });
    assert.equal(ok.namespace, NS);
  });

  it('says token_rejected for a used token, token_expired for an expired one, token_malformed for garbage', async () => {
    const token = await newToken();
    await enroll({ token, stateDir: stateDir() });
    await refused(token, 'token_rejected', /^the control plane refused the token: it is unknown, revoked or already used$/);
    const t = decodeEnrollmentToken(await newToken());
    await refused(encodeEnrollmentToken({ ...t, expiresAt: '2020-01-01T00:00:00.000Z' }), 'token_expired', /^the enrollment token expired at 2020-01-01T00:00:00\.000Z; ask for a new one$/);
    await refused(encodeEnrollmentToken({ ...t, secret: 'Z'.repeat(43) }), 'token_rejected', /already used$/);
    await refused('palisade-enroll.v1.bm90IGpzb24', 'token_malformed', /^enrollment token is malformed: its body is not base64url JSON$/);
    await refused('hello', 'token_malformed', /^enrollment token is malformed: it must start with palisade-enroll\.v1\.$/);
  });

  it('runs as the CLI: exit 0 with progress lines; a used token gives one line on stderr and exit 1', async () => {
    const token = await newToken();
    const dir = stateDir();
    const main = join(ROOT, 'dist/apps/agent/src/main.js');
    const ok = spawnSync(process.execPath, [main, 'enroll', token, '--state-dir', dir], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const out = ok.stdout.trim().split('\n');
    assert.equal(out.length, 5);
    assert.match(out[0], /^token ok: /);
    assert.match(out[4], new RegExp(`^agent [0-9a-f-]{36} enrolled in ${NS.replace(/\//g, '\\/')}$`));
    assert.ok(existsSync(join(dir, 'agent.key')));
    const again = spawnSync(process.execPath, [main, 'enroll', token, '--state-dir', stateDir()], { encoding: 'utf8' });
    assert.equal(again.status, 1);
    assert.equal(again.stderr, 'palisade-agent: enroll failed (token_rejected): the control plane refused the token: it is unknown, revoked or already used\n');
    const bad = spawnSync(process.execPath, [main, 'enroll', 'garbage', '--state-dir', stateDir()], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^palisade-agent: enroll failed \(token_malformed\): [^\n]+\n$/);
  });
});
