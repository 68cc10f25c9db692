import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCsr, generateKeyPair, readCertificate, verifyChain } from '@palisade/pki';
import { normalizeSerial } from '@palisade/protocol';
import { ApiError } from '../../common/api-error';
import { type TestApp, startTestApp } from '../../testing/test-app';
import { backends } from '../../testing/test-backends';
import { type AgentCredential, AgentSocket, dial, enrollAgent, helloFor, HOST_SERVICE, importSeeds, NS } from './agents.testkit';
import { AgentsService } from './agents.service';

const pems = (chain: string) => chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
/** The n-th certificate of a chain PEM (0 = the leaf); fails the test when the chain is shorter. */
const nth = (chain: string, n: number): string => pems(chain)[n] ?? assert.fail(`chain has no certificate ${n}`);
const serialOf = (chain: string) => normalizeSerial(readCertificate(nth(chain, 0)).serial);

/** The tags the seed's service selects, plus one the token grants (app=server) and one it does not (evil=1). */
const DECLARED = { ...HOST_SERVICE, associatedTags: ['app=server', 'hs:name=tcp:8106', 'evil=1'] };

for (const backend of backends()) {
  describe(`certificates over the control channel (${backend.name})`, () => {
    let t: TestApp;
    let dir: string;
    let a: AgentCredential;
    let sa: AgentSocket;
    let observer: AgentSocket;
    let reqN = 0;

    let lastKey = '';
    const csrMsg = async (s: AgentSocket, subject: 'agent' | 'pu', puName?: string) => {
      const requestId = `r${++reqN}`;
      const { privateKeyPem } = await generateKeyPair();
      lastKey = privateKeyPem;
      s.send({ type: 'csr', requestId, subject, ...(puName ? { puName } : {}), csr: await createCsr(privateKeyPem, 'x') });
      return requestId;
    };
    const issue = async (s: AgentSocket, subject: 'agent' | 'pu', puName?: string) => {
      const id = await csrMsg(s, subject, puName);
      const keyPem = lastKey;
      const c = await Promise.race([
        s.next('cert', (m) => m.requestId === id),
        s.next('error', (m) => m.requestId === id).then((e) => assert.fail(`${e.code}: ${e.message}`)),
      ]);
      return { ...c, keyPem };
    };
    const openssl = (args: string[]) => {
      const r = spawnSync('openssl', args, { encoding: 'utf8' });
      return { status: r.status, out: `${r.stdout}${r.stderr}` };
    };
    /** `openssl verify -CAfile <root> -untrusted <issuing> <leaf>` on a chain PEM (leaf, issuing). */
    const opensslVerify = (chain: string, rootPem: string, name: string) => {
      const [leaf, issuing] = [nth(chain, 0), nth(chain, 1)];
      writeFileSync(join(dir, `${name}.pem`), leaf);
      writeFileSync(join(dir, `${name}-issuing.pem`), issuing);
      writeFileSync(join(dir, 'root.pem'), rootPem);
      return openssl(['verify', '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, `${name}-issuing.pem`), join(dir, `${name}.pem`)]);
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'palisade-certs-'));
      t = await startTestApp(backend);
      await importSeeds(t);
      a = await enrollAgent(t, { tags: ['app=server'], hostname: 'srv' });
      sa = await AgentSocket.open(t, a, helloFor(a.agentId, { pus: [DECLARED] }));
      await sa.ruleSet();
      const o = await enrollAgent(t, { tags: ['app=server'], hostname: 'observer' });
      observer = await AgentSocket.open(t, o, helloFor(o.agentId, { pus: [{ ...DECLARED, name: 'tcp:9000', associatedTags: ['app=server'], ports: ['tcp/9000'] }] }));
      await observer.ruleSet();
    });
    after(async () => {
      sa?.close();
      observer?.close();
      await t?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("issues a unit's certificate with its effective tags, and not a tag the token did not allow", async () => {
      const c = await issue(sa, 'pu', 'tcp:8106');
      assert.equal(c.subject, 'pu');
      assert.equal(c.puName, 'tcp:8106');
      assert.ok(c.puId);
      const v = await verifyChain({ chainPem: c.certificate, trustBundle: c.trustBundle });
      assert.deepEqual(v.identity, { trustDomain: v.identity.trustDomain, namespace: NS, kind: 'pu', id: c.puId });
      for (const tag of [`$namespace=${NS}`, '$identity=processingunit', '$type=HostService', '$name=tcp:8106', `$id=${c.puId}`, 'app=server', 'hs:name=tcp:8106']) {
        assert.ok(v.tags.includes(tag), `${tag} in ${v.tags.join(' ')}`);
      }
      assert.ok(!v.tags.includes('evil=1'), 'a tag the enrollment token did not grant is dropped');
      const info = readCertificate(nth(c.certificate, 0));
      assert.equal(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 1000), 3600 + 30, 'the namespace default (1 h) plus the 30 s backdate');
      assert.equal(c.notAfter, info.notAfter.toISOString());
      // Real X.509: OpenSSL verifies it and prints the SAN and every tag.
      assert.equal(opensslVerify(c.certificate, c.trustBundle[0], 'pu').status, 0);
      const text = openssl(['x509', '-text', '-noout', '-in', join(dir, 'pu.pem')]).out;
      assert.match(text, new RegExp(`URI:spiffe://[^/]+/ns/aporeto/lbtest3/pu/${c.puId}`));
      // openssl prints the DER value as text; a length byte of 10 shows as a line break, so read up to the signature.
      const ext = /1\.3\.6\.1\.4\.1\.57264\.1\.1: \n([\s\S]*?)Signature Algorithm/.exec(text);
      assert.ok(ext, text);
      for (const tag of ['$type=HostService', '$name=tcp:8106', 'hs:name=tcp:8106', 'app=server']) {
        assert.ok(ext[1].includes(tag), tag);
      }
      assert.ok(!ext[1].includes('evil=1'));
    });

    it("follows the namespace's puCertificateTtlSeconds", async () => {
      assert.equal((await t.call('POST', '/v1/namespaces', { body: { name: '/short', puCertificateTtlSeconds: 300 } })).status, 201);
      const s = await enrollAgent(t, { namespace: '/short', hostname: 'short' });
      const ss = await AgentSocket.open(t, s, helloFor(s.agentId, { pus: [{ ...HOST_SERVICE }] }));
      const c = await issue(ss, 'pu', 'tcp:8106');
      const info = readCertificate(nth(c.certificate, 0));
      assert.equal(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 1000), 300 + 30);
      ss.close();
    });

    it('refuses a csr for a unit the agent did not declare, and a tampered csr, keeping the socket', async () => {
      const id = await csrMsg(sa, 'pu', 'not-mine');
      const e = await sa.next('error', (m) => m.requestId === id);
      assert.equal(e.code, 'processingunit_not_found');
      assert.equal(e.message, 'this agent has no processing unit not-mine');
      const requestId = `r${++reqN}`;
      sa.send({ type: 'csr', requestId, subject: 'agent', csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' });
      assert.equal((await sa.next('error', (m) => m.requestId === requestId)).code, 'csr_malformed');
      await sa.barrier();
      assert.equal(sa.isClosed, false);
    });

    it('renews the agent certificate (subject agent) for 24 h', async () => {
      const c = await issue(sa, 'agent');
      const v = await verifyChain({ chainPem: c.certificate, trustBundle: c.trustBundle });
      assert.deepEqual(v.identity, { trustDomain: v.identity.trustDomain, namespace: NS, kind: 'agent', id: a.agentId });
      assert.ok(v.tags.includes('$identity=agent'));
      const info = readCertificate(nth(c.certificate, 0));
      assert.equal(Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / 1000), 86_400 + 30);
      // The renewed certificate opens the channel too.
      const again = await AgentSocket.open(t, { ...a, keyPem: c.keyPem, certPem: c.certificate });
      await again.barrier();
      again.close();
      await sa.closed; // replaced by the newer connection
      sa = await AgentSocket.open(t, a, helloFor(a.agentId, { pus: [DECLARED] }));
      await sa.ruleSet();
    });

    it('keeps old and new leaves verifying across POST /v1/ca/rotate (verifyChain and openssl)', async () => {
      const before = await issue(sa, 'pu', 'tcp:8106');
      const editor = (await t.call('POST', '/v1/apitokens', { body: { name: 'ed', role: 'editor', namespace: '/' } })).body.token;
      assert.equal((await t.call('POST', '/v1/ca/rotate', { token: editor })).status, 403);
      const rot = await t.call('POST', '/v1/ca/rotate');
      assert.equal(rot.status, 200, rot.text);
      assert.equal(rot.body.issuing.filter((i: { active: boolean }) => i.active).length, 1);
      assert.equal(rot.body.issuing.length, 2);
      const bundle = (await t.call('GET', '/v1/ca')).body.trustBundle as string[];
      assert.equal(bundle.length, 3, 'root, new issuing, old issuing');
      // Every connected agent is sent the new bundle.
      const rs = await observer.ruleSet((r) => r.trustBundle.length === 3);
      assert.deepEqual([...rs.trustBundle].sort(), [...bundle].sort());
      const afterRot = await issue(sa, 'pu', 'tcp:8106');
      assert.notEqual(readCertificate(nth(afterRot.certificate, 1)).serial, readCertificate(nth(before.certificate, 1)).serial, 'signed by the new issuing CA');
      for (const [name, c] of [['old', before], ['new', afterRot]] as const) {
        await verifyChain({ chainPem: c.certificate, trustBundle: bundle });
        const r = opensslVerify(c.certificate, bundle[0], name);
        assert.equal(r.status, 0, `${name}: ${r.out}`);
      }
    });

    it('revokes a unit: its serials join every deny list and its next csr is refused', async () => {
      const c = await issue(sa, 'pu', 'tcp:8106');
      const r = await t.call('POST', `/v1/processingunits/${c.puId}/revoke`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.id, c.puId);
      assert.ok(r.body.revokedSerials >= 1);
      const rs = await observer.ruleSet((x) => x.denyList.includes(serialOf(c.certificate)));
      assert.ok(rs.denyList.includes(serialOf(c.certificate)));
      const id = await csrMsg(sa, 'pu', 'tcp:8106');
      const e = await sa.next('error', (m) => m.requestId === id);
      assert.equal(e.code, 'processingunit_revoked');
      assert.equal(e.message, 'this processing unit is revoked');
      const other = await t.call('POST', `/v1/processingunits/00000000-0000-4000-8000-000000000000/revoke`);
      assert.equal(other.status, 404);
      assert.equal(other.body.code, 'processingunit_not_found');
    });

    it("revokes an agent: renewal refused with agent_revoked, its socket closed, its and its units' serials denied everywhere", async () => {
      const v = await enrollAgent(t, { tags: ['app=server'], hostname: 'victim' });
      const sv = await AgentSocket.open(t, v, helloFor(v.agentId, { pus: [{ ...DECLARED, name: 'tcp:7000', ports: ['tcp/7000'] }] }));
      await sv.ruleSet();
      const puCert = await issue(sv, 'pu', 'tcp:7000');
      const renewed = await issue(sv, 'agent');
      const r = await t.call('POST', `/v1/agents/${v.agentId}/revoke`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.revoked, true);
      assert.equal(r.body.connected, false);
      // The socket is closed at once by the distribution; a csr racing the close gets agent_revoked.
      const id = await csrMsg(sv, 'agent').catch(() => 'unsent');
      const closed = await sv.closed;
      assert.equal(closed.code, 4403);
      assert.equal(closed.reason, 'agent revoked');
      for (const m of sv.drain()) {
        assert.notEqual(m.type, 'cert', 'nothing is issued after revocation');
        if (m.type === 'error' && m.requestId === id) {
          assert.equal(m.code, 'agent_revoked');
        }
      }
      // The same refusal, asked of the service directly (no race with the close).
      const { privateKeyPem } = await generateKeyPair();
      await assert.rejects(
        t.cp.app.get(AgentsService).issueOverChannel(v.agentId, { subject: 'agent', csr: await createCsr(privateKeyPem) }),
        (e: unknown) => e instanceof ApiError && e.code === 'agent_revoked' && e.message === 'this agent is revoked; nothing more is issued to it',
      );
      const want = [serialOf(v.certPem), serialOf(renewed.certificate), serialOf(puCert.certificate)];
      const revoked = await observer.next('revoke', (m) => want.every((s) => m.serials.includes(s)));
      assert.deepEqual([...revoked.serials].sort(), [...want].sort(), 'a revoke message with exactly the new serials, ahead of the rule set');
      const rs = await observer.ruleSet((x) => want.every((s) => x.denyList.includes(s)));
      assert.deepEqual(want.filter((s) => !rs.denyList.includes(s)), []);
      assert.deepEqual(await dial(t, v), { kind: 'refused', status: 401 });
      const again = await t.call('POST', `/v1/agents/${v.agentId}/revoke`);
      assert.equal(again.status, 200, 'revoking twice is idempotent');
    });
  });
}
