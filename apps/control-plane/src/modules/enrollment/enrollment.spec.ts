import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCsr, generateKeyPair, readCertificate, verifyChain } from '@palisade/pki';
import { decodeEnrollmentToken, encodeEnrollmentToken } from '@palisade/protocol';
import { type TestApp, startTestApp } from '../../testing/test-app';
import { backends } from '../../testing/test-backends';
import { importSeeds, NS } from '../agents/agents.testkit';

const csrFor = async (cn = 'agent') => createCsr((await generateKeyPair()).privateKeyPem, cn);

/** A CSR whose signed content was changed after signing: the subject's CN, one letter. */
async function tamperedCsr(): Promise<string> {
  const pem = await csrFor('tamper-me');
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const at = der.indexOf(Buffer.from('tamper-me'));
  assert.ok(at > 0);
  der[at + 8] = 'f'.charCodeAt(0);
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

for (const backend of backends()) {
  describe(`enrollment tokens and POST /v1/enroll (${backend.name})`, () => {
    let t: TestApp;
    let otherEditor: string;
    let viewer: string;

    const newToken = async (body: Record<string, unknown> = {}) => {
      const r = await t.call('POST', '/v1/enrollmenttokens', { body: { namespace: NS, ...body } });
      assert.equal(r.status, 201, r.text);
      return r.body as { id: string; token: string; namespace: string; expiresAt: string; maxUses: number; tags: string[] };
    };
    const redeem = async (token: string, csr?: string) => t.call('POST', '/v1/enroll', { token: null, body: { token, csr: csr ?? (await csrFor()), hostname: 'h1' } });
    const uses = async (id: string) => Number(((await t.cp.dataSource.query('SELECT uses FROM enrollment_tokens WHERE id = $1', [id])) as { uses: number }[])[0].uses);
    const assertInvalid = (r: { status: number; body: { code: string; message: string } }) => {
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'enrollment_token_invalid');
      assert.equal(r.body.message, 'the enrollment token is unknown, expired or already used');
    };

    before(async () => {
      t = await startTestApp(backend);
      await importSeeds(t);
      assert.equal((await t.call('POST', '/v1/namespaces', { body: { name: '/elsewhere' } })).status, 201);
      otherEditor = (await t.call('POST', '/v1/apitokens', { body: { name: 'else-editor', role: 'editor', namespace: '/elsewhere' } })).body.token;
      viewer = (await t.call('POST', '/v1/apitokens', { body: { name: 'ns-viewer', role: 'viewer', namespace: NS } })).body.token;
    });
    after(async () => t?.stop());

    it('answers { id, token, namespace, expiresAt, maxUses, tags } with the defaults (600 s, single use)', async () => {
      const before = Date.now();
      const r = await newToken({ tags: ['app=client', 'app=client', 'env=prod'] });
      assert.deepEqual(Object.keys(r).sort(), ['expiresAt', 'id', 'maxUses', 'namespace', 'tags', 'token']);
      assert.equal(r.namespace, NS);
      assert.equal(r.maxUses, 1);
      assert.deepEqual(r.tags, ['app=client', 'env=prod']);
      const exp = Date.parse(r.expiresAt);
      assert.ok(exp >= before + 600_000 - 1000 && exp <= Date.now() + 600_000 + 1000, r.expiresAt);
      const decoded = decodeEnrollmentToken(r.token);
      assert.equal(decoded.url, t.cp.url);
      assert.equal(decoded.caFingerprint, t.cp.caFingerprint);
      assert.equal(decoded.expiresAt, r.expiresAt);
    });

    it('stores only a hash: the secret appears in no row of any table', async () => {
      const r = await newToken();
      const { secret } = decodeEnrollmentToken(r.token);
      const tables = (await t.cp.dataSource.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)) as { table_name: string }[];
      assert.ok(tables.some((x) => x.table_name === 'enrollment_tokens'));
      for (const { table_name } of tables) {
        const rows = (await t.cp.dataSource.query(`SELECT row_to_json(x)::text AS j FROM "${table_name}" x`)) as { j: string }[];
        for (const row of rows) {
          assert.ok(!row.j.includes(secret), `${table_name} holds the secret`);
          assert.ok(!row.j.includes(r.token), `${table_name} holds the token`);
        }
      }
      const row = ((await t.cp.dataSource.query('SELECT token_hash FROM enrollment_tokens WHERE id = $1', [r.id])) as { token_hash: string }[])[0];
      assert.match(row.token_hash, /^[0-9a-f]{64}$/);
    });

    it('redeems a token for an agent certificate and the trust bundle, then refuses a replay alike', async () => {
      const tok = await newToken();
      const r = await redeem(tok.token);
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(Object.keys(r.body).sort(), ['agentId', 'certificate', 'namespace', 'trustBundle', 'trustDomain']);
      const v = await verifyChain({ chainPem: r.body.certificate, trustBundle: r.body.trustBundle });
      assert.deepEqual(v.identity, { trustDomain: r.body.trustDomain, namespace: NS, kind: 'agent', id: r.body.agentId });
      assert.deepEqual(v.tags, ['$hostname=h1', `$id=${r.body.agentId}`, '$identity=agent', `$namespace=${NS}`]);
      const c = readCertificate(r.body.certificate);
      assert.equal((c.notAfter.getTime() - c.notBefore.getTime()) / 1000 >= 86_400 - 120, true);
      assertInvalid(await redeem(tok.token));
      assert.equal(await uses(tok.id), 1);
    });

    it('lets exactly one of 10 concurrent uses of a single-use token succeed', async () => {
      const tok = await newToken();
      const csrs = await Promise.all(Array.from({ length: 10 }, () => csrFor()));
      const replies = await Promise.all(csrs.map((csr) => redeem(tok.token, csr)));
      const statuses = replies.map((r) => r.status).sort();
      assert.deepEqual(statuses, [201, ...Array(9).fill(401)]);
      for (const r of replies.filter((x) => x.status === 401)) {
        assertInvalid(r);
      }
      assert.equal(await uses(tok.id), 1);
      const agents = (await t.cp.dataSource.query('SELECT id FROM agents WHERE enrollment_token_id = $1', [tok.id])) as unknown[];
      assert.equal(agents.length, 1, 'one agent, no half-enrolled others');
    });

    it('allows a maxUses=3 token exactly three times, also when 6 race for it', async () => {
      const tok = await newToken({ maxUses: 3 });
      assert.equal(tok.maxUses, 3);
      const replies = await Promise.all(Array.from({ length: 6 }, () => redeem(tok.token)));
      assert.deepEqual(replies.map((r) => r.status).sort(), [201, 201, 201, 401, 401, 401]);
      assertInvalid(await redeem(tok.token));
      assert.equal(await uses(tok.id), 3);
    });

    it('enrolls concurrent agents (group-committed) with their own tokens: each its own agent, certificate record and audit entry', async () => {
      const toks = await Promise.all(Array.from({ length: 8 }, () => newToken()));
      const spent = await newToken();
      assert.equal((await redeem(spent.token)).status, 201);
      const replies = await Promise.all([...toks.map((tk) => redeem(tk.token)), redeem(spent.token)]);
      assert.deepEqual(replies.map((r) => r.status), [...Array(8).fill(201), 401], 'the spent token is refused alone');
      const ids = replies.slice(0, 8).map((r) => r.body.agentId as string);
      assert.equal(new Set(ids).size, 8);
      for (const [i, r] of replies.slice(0, 8).entries()) {
        const v = await verifyChain({ chainPem: r.body.certificate, trustBundle: r.body.trustBundle });
        assert.equal(v.identity.id, ids[i]);
        const serial = readCertificate(r.body.certificate).serial;
        const rec = (await t.cp.dataSource.query('SELECT agent_id, kind FROM issued_certificates WHERE agent_id = $1', [ids[i]])) as { agent_id: string; kind: string }[];
        assert.deepEqual(rec, [{ agent_id: ids[i], kind: 'agent' }], `one certificate record for agent ${i} (serial ${serial})`);
        const agent = (await t.cp.dataSource.query('SELECT enrollment_token_id, hostname, allowed_tags FROM agents WHERE id = $1', [ids[i]])) as { enrollment_token_id: string; hostname: string; allowed_tags: string[] }[];
        assert.deepEqual(agent, [{ enrollment_token_id: toks[i].id, hostname: 'h1', allowed_tags: [] }]);
        const audit = (await t.cp.dataSource.query(`SELECT actor_name, action, after FROM audit_logs WHERE kind = 'agent' AND object_id = $1`, [ids[i]])) as { actor_name: string; action: string; after: { enrollmentTokenId: string } }[];
        assert.equal(audit.length, 1);
        assert.equal(audit[0].action, 'create');
        assert.equal(audit[0].after.enrollmentTokenId, toks[i].id);
        assert.equal(await uses(toks[i].id), 1);
      }
      assert.equal(await uses(spent.id), 1);
    });

    it('refuses an expired token like an unknown one', async () => {
      const tok = await newToken({ ttlSeconds: 60 });
      // No clock seam in the service: moving expires_at into the past is the test double of time passing.
      await t.cp.dataSource.query(`UPDATE enrollment_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [tok.id]);
      assertInvalid(await redeem(tok.token));
      assert.equal(await uses(tok.id), 0);
    });

    it('refuses an unknown token (a well-formed token with a secret never issued) the same way', async () => {
      const tok = await newToken();
      const forged = encodeEnrollmentToken({ ...decodeEnrollmentToken(tok.token), secret: 'A'.repeat(43) });
      assertInvalid(await redeem(forged));
      assert.equal(await uses(tok.id), 0);
    });

    it('answers a malformed token with 400 token_malformed naming the field', async () => {
      for (const bad of ['not-a-token', 'palisade-enroll.v1.!!!!', encodeEnrollmentToken({ url: 'http://x', caFingerprint: 'ab'.repeat(32), secret: 'x'.repeat(43) })]) {
        const r = await redeem(bad);
        assert.equal(r.status, 400, bad);
        assert.equal(r.body.code, 'token_malformed');
        assert.match(r.body.message, /^enrollment token is malformed: /);
        assert.deepEqual(r.body.details, { field: 'token' });
      }
      const missing = await t.call('POST', '/v1/enroll', { token: null, body: { csr: await csrFor() } });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.code, 'validation_failed');
      assert.equal(missing.body.details[0].field, 'token');
    });

    it('refuses a CSR whose signature does not match with the pki code, and consumes nothing', async () => {
      const tok = await newToken();
      const r = await redeem(tok.token, await tamperedCsr());
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.code, 'csr_signature_invalid');
      assert.deepEqual(r.body.details, { field: 'csr' });
      const garbage = await redeem(tok.token, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n');
      assert.equal(garbage.status, 400);
      assert.equal(garbage.body.code, 'csr_malformed');
      assert.equal(await uses(tok.id), 0);
      assert.equal((await redeem(tok.token)).status, 201, 'the token still works afterwards');
    });

    it('answers 404 for a namespace the caller cannot see or that does not exist, and 403 for a viewer', async () => {
      const hidden = await t.call('POST', '/v1/enrollmenttokens', { token: otherEditor, body: { namespace: NS } });
      assert.equal(hidden.status, 404);
      assert.equal(hidden.body.code, 'namespace_not_found');
      assert.equal(hidden.body.message, `namespace ${NS} not found`);
      const none = await t.call('POST', '/v1/enrollmenttokens', { body: { namespace: '/no/such' } });
      assert.equal(none.status, 404);
      assert.equal(none.body.code, 'namespace_not_found');
      const v = await t.call('POST', '/v1/enrollmenttokens', { token: viewer, body: { namespace: NS } });
      assert.equal(v.status, 403, v.text);
      const anon = await t.call('POST', '/v1/enrollmenttokens', { token: null, body: { namespace: NS } });
      assert.equal(anon.status, 401);
    });

    it('accepts only valid user tags, ttlSeconds in 60..604800 and maxUses in 1..10000', async () => {
      const count = async () => Number(((await t.cp.dataSource.query('SELECT count(*)::int AS n FROM enrollment_tokens')) as { n: number }[])[0].n);
      const n0 = await count();
      const cases: [Record<string, unknown>, string, string][] = [
        [{ tags: ['$identity=agent'] }, 'tags[0]', 'tag_system_forbidden'],
        [{ tags: ['novalue'] }, 'tags[0]', 'tag_malformed'],
        [{ tags: 'app=client' }, 'tags', ''],
        [{ ttlSeconds: 59 }, 'ttlSeconds', ''],
        [{ ttlSeconds: 604_801 }, 'ttlSeconds', ''],
        [{ maxUses: 0 }, 'maxUses', ''],
        [{ maxUses: 1.5 }, 'maxUses', ''],
        [{ namespace: 'relative/path' }, 'namespace', ''],
        [{ extra: 1 }, 'extra', ''],
      ];
      for (const [body, field, code] of cases) {
        const r = await t.call('POST', '/v1/enrollmenttokens', { body: { namespace: NS, ...body } });
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
        assert.equal(r.body.code, 'validation_failed');
        const d = (r.body.details as { field: string; code: string }[]).find((x) => x.field === field);
        assert.ok(d, `${JSON.stringify(body)}: ${JSON.stringify(r.body.details)}`);
        if (code) {
          assert.equal(d.code, code);
        }
      }
      assert.equal(await count(), n0, 'nothing stored for a refused request');
    });
  });
}
