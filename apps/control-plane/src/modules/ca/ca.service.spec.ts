import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCsr, generateKeyPair, readCertificate, verifyChain } from '@palisade/pki';
import { type TestApp, startTestApp } from '../../testing/test-app';
import { backends, createTestDatabase } from '../../testing/test-backends';
import { CaService } from './ca.service';

async function leafFrom(ca: CaService) {
  const keys = await generateKeyPair();
  return ca.issue({ csrPem: await createCsr(keys.privateKeyPem), identity: { namespace: '/a', kind: 'pu', id: 'p1' }, tags: ['app=x'], ttlSeconds: 600 });
}

for (const backend of backends()) {
  describe(`${CaService.name} (${backend.name})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
    });
    after(async () => t?.stop());

    it('stores CA keys only sealed: no PEM private key anywhere in the table or the API', async () => {
      const rows = (await t.cp.dataSource.query('SELECT * FROM certificate_authorities')) as Record<string, unknown>[];
      assert.deepEqual(rows.map((r) => r.kind).sort(), ['issuing', 'root']);
      assert.ok(!JSON.stringify(rows).includes('PRIVATE KEY'));
      const api = await t.call('GET', '/v1/ca');
      assert.equal(api.status, 200);
      assert.ok(!api.text.includes('PRIVATE KEY'));
      assert.equal(api.body.trustBundle[0], t.cp.app.get(CaService).rootCertPem());
    });

    it('issues leaves that openssl verifies, with the trust domain filled in', async () => {
      const ca = t.cp.app.get(CaService);
      const leaf = await leafFrom(ca);
      assert.equal(readCertificate(leaf.certPem).identity?.trustDomain, 'palisade.local');
      const dir = await mkdtemp(join(tmpdir(), 'palisade-ca-'));
      try {
        await writeFile(join(dir, 'bundle.pem'), ca.trustBundle().join(''));
        await writeFile(join(dir, 'leaf.pem'), leaf.certPem);
        assert.match(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'bundle.pem'), join(dir, 'leaf.pem')]).toString(), /OK/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('rotate: a new issuing CA signs from now on; the old one stays trusted so its leaves still verify', async () => {
      const ca = t.cp.app.get(CaService);
      const oldLeaf = await leafFrom(ca);
      const oldIssuer = ca.issuer().serial;
      const r = await t.call('POST', '/v1/ca/rotate');
      assert.equal(r.status, 200, r.text);
      assert.notEqual(ca.issuer().serial, oldIssuer);
      const newLeaf = await leafFrom(ca);
      assert.equal(ca.trustBundle().length, 3);
      for (const l of [oldLeaf, newLeaf]) {
        const v = await verifyChain({ chainPem: l.chainPem, trustBundle: ca.trustBundle() });
        assert.equal(v.identity.id, 'p1');
      }
      const old = r.body.issuing.find((i: { serial: string }) => i.serial === oldIssuer);
      assert.equal(old.active, false);
      assert.ok(Date.parse(old.trustedUntil) > Date.now() + 23 * 3600_000);
      const log = await t.call('GET', '/v1/auditlogs?limit=1');
      assert.deepEqual([log.body[0].action, log.body[0].kind], ['rotate', 'ca']);
      const viewer = (await t.call('POST', '/v1/apitokens', { body: { name: 'v', role: 'viewer' } })).body.token;
      assert.equal((await t.call('POST', '/v1/ca/rotate', { token: viewer })).status, 403);
    });
  });
}

describe('two replicas on one Postgres database', { skip: !process.env.TEST_DATABASE_URL }, () => {
  it('create the CA exactly once when they start together', async () => {
    const db = await createTestDatabase(process.env.TEST_DATABASE_URL ?? '');
    const shared = { name: 'postgres' as const, prepare: async () => ({ dataDir: await mkdtemp(join(tmpdir(), 'palisade-rep-')), databaseUrl: db.url, cleanup: async () => undefined }) };
    const kek = Buffer.alloc(32, 3).toString('base64');
    try {
      const [a, b] = await Promise.all([startTestApp(shared, { PALISADE_KEK: kek }), startTestApp(shared, { PALISADE_KEK: kek })]);
      try {
        const rows = (await a.cp.dataSource.query('SELECT kind FROM certificate_authorities')) as unknown[];
        assert.equal(rows.length, 2);
        assert.equal(a.cp.caFingerprint, b.cp.caFingerprint);
      } finally {
        await a.stop();
        await b.stop();
      }
    } finally {
      await db.drop();
    }
  });
});
