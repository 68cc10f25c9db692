import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, startTestApp } from '../../testing/test-app';
import { backends } from '../../testing/test-backends';
import { importSeeds, NS } from '../agents/agents.testkit';

const SUBJECT = [`$namespace=${NS}`, 'app=client'];
const OBJECT = [`$namespace=${NS}`, '$identity=processingunit', '$type=HostService', 'hs:name=tcp:8106'];

// Issue 3 "Done when": the seed scenario through POST /v1/policycheck.
for (const backend of backends()) {
  describe(`POST /v1/policycheck (${backend.name})`, () => {
    let t: TestApp;
    let policyId: string;
    const check = (body: Record<string, unknown>, token?: string) => t.call('POST', '/v1/policycheck', { token, body: { namespace: NS, subject: SUBJECT, object: OBJECT, port: 'tcp/8106', ...body } });

    before(async () => {
      t = await startTestApp(backend);
      await importSeeds(t);
      policyId = ((await t.call('GET', `/v1/networkaccesspolicies?namespace=${NS}`)).body as { id: string }[])[0].id;
    });
    after(async () => t?.stop());

    it('allows app=client to the seed host service on tcp/8106 by client-to-mylbtest3, explaining why', async () => {
      const r = await check({});
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.action, 'Allow');
      assert.equal(r.body.policyName, 'client-to-mylbtest3');
      assert.equal(r.body.policyId, policyId);
      assert.equal(r.body.reason, 'policy');
      assert.ok(r.body.objectTags.includes('service=mylbtest3'), 'the service the unit implements lends its tags');
      assert.ok(Array.isArray(r.body.explanation) && r.body.explanation.length > 0);
      const mine = r.body.explanation.find((e: { policyId: string; matched: boolean }) => e.policyId === policyId && e.matched);
      assert.ok(mine, JSON.stringify(r.body.explanation));
      assert.ok(typeof mine.why === 'string' && mine.why.length > 0);
    });

    it('rejects without app=client by the namespace default', async () => {
      const r = await check({ subject: [`$namespace=${NS}`, 'app=other'] });
      assert.equal(r.status, 200);
      assert.equal(r.body.action, 'Reject');
      assert.equal(r.body.reason, 'default');
      assert.equal(r.body.policyId, null);
      assert.equal(r.body.policyName, null);
      assert.ok(r.body.explanation.some((e: { policyId: string; matched: boolean; why: string }) => e.policyId === policyId && !e.matched && e.why.length > 0));
    });

    it('rejects on tcp/9999 (the service lends its tags only on its port)', async () => {
      const r = await check({ port: 'tcp/9999' });
      assert.equal(r.status, 200);
      assert.equal(r.body.action, 'Reject');
      assert.equal(r.body.reason, 'default');
      assert.ok(!r.body.objectTags.includes('service=mylbtest3'));
    });

    it('answers a bad body with 400 validation_failed naming the field, and a hidden namespace with 404', async () => {
      for (const [body, field] of [
        [{ port: '8106' }, 'port'],
        [{ port: 'udp/53' }, 'port'],
        [{ subject: 'app=client' }, 'subject'],
        [{ object: ['novalue'] }, 'object[0]'],
        [{ namespace: 'lbtest3' }, 'namespace'],
        [{ extra: true }, 'extra'],
      ] as const) {
        const r = await check(body);
        assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
        assert.equal(r.body.code, 'validation_failed');
        assert.ok((r.body.details as { field: string }[]).some((d) => d.field === field), JSON.stringify(r.body.details));
      }
      const none = await check({ namespace: '/no/such' });
      assert.equal(none.status, 404);
      assert.equal(none.body.code, 'namespace_not_found');
      assert.equal((await t.call('POST', '/v1/namespaces', { body: { name: '/elsewhere' } })).status, 201);
      const other = (await t.call('POST', '/v1/apitokens', { body: { name: 'else', role: 'viewer', namespace: '/elsewhere' } })).body.token;
      const hidden = await check({}, other);
      assert.equal(hidden.status, 404);
      assert.equal(hidden.body.code, 'namespace_not_found');
    });
  });
}
