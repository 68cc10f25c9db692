import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, startTestApp } from '../../testing/test-app';
import { backends } from '../../testing/test-backends';

for (const backend of backends()) {
  describe(`REST resources (${backend.name})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
      for (const name of ['/shop', '/shop/prod']) {
        assert.equal((await t.call('POST', '/v1/namespaces', { body: { name } })).status, 201);
      }
    });
    after(async () => t?.stop());

    it('creates with defaults and normalised selectors, gets, lists by namespace and recursively', async () => {
      const c = await t.call('POST', '/v1/networkaccesspolicies', {
        body: { name: 'p1', namespace: '/shop/prod', subject: [['b=2', 'a=1'], ['a=1', 'b=2']], object: [['app=db']], action: 'Allow', ports: ['TCP/5432', 'tcp/5432'] },
      });
      assert.equal(c.status, 201, c.text);
      assert.deepEqual(c.body.subject, [['a=1', 'b=2']]);
      assert.deepEqual(c.body.ports, ['tcp/5432']);
      assert.equal(c.body.encryptionEnabled, true);
      assert.equal(c.body.applyPolicyMode, 'Bidirectional');
      assert.equal(c.body.version, 1);
      assert.match(c.body.id, /^[0-9a-f-]{36}$/);
      assert.equal((await t.call('GET', `/v1/networkaccesspolicies/${c.body.id}`)).body.name, 'p1');
      assert.deepEqual((await t.call('GET', '/v1/networkaccesspolicies?namespace=/shop')).body, []);
      const rec = await t.call('GET', '/v1/networkaccesspolicies?namespace=/shop&recursive=true');
      assert.deepEqual(rec.body.map((p: { name: string }) => p.name), ['p1']);
      assert.equal((await t.call('GET', '/v1/networkaccesspolicies?namespace=/shop/prod&name=p1')).body.length, 1);
      const dup = await t.call('POST', '/v1/networkaccesspolicies', { body: { name: 'p1', namespace: '/shop/prod', subject: [['a=1']], object: [['b=1']], action: 'Reject' } });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.code, 'name_taken');
    });

    it('updates with the current version, refuses a stale one with 409, and keeps agentId read-only', async () => {
      const pu = (await t.call('POST', '/v1/processingunits', { body: { name: 'web', namespace: '/shop/prod', type: 'HostService', associatedTags: ['app=web'] } })).body;
      assert.equal(pu.agentId, null);
      const put = await t.call('PUT', `/v1/processingunits/${pu.id}`, { body: { name: 'web', type: 'HostService', associatedTags: ['app=web', 'tier=1'], version: 1 } });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.version, 2);
      assert.deepEqual(put.body.associatedTags, ['app=web', 'tier=1']);
      const stale = await t.call('PUT', `/v1/processingunits/${pu.id}`, { body: { name: 'web', type: 'Host', version: 1 } });
      assert.equal(stale.status, 409);
      assert.equal(stale.body.code, 'version_conflict');
      assert.deepEqual(stale.body.details, { currentVersion: 2 });
      const agent = await t.call('PUT', `/v1/processingunits/${pu.id}`, { body: { name: 'web', type: 'Host', version: 2, agentId: pu.id } });
      assert.equal(agent.status, 400);
      assert.deepEqual(agent.body.details.map((d: { field: string; code: string }) => [d.field, d.code]), [['agentId', 'field_unknown']]);
    });

    it('deletes objects (204 then 404) and records every mutation in the audit log', async () => {
      const s = (await t.call('POST', '/v1/services', { body: { name: 'lb', namespace: '/shop/prod', IPs: ['10.0.0.1'], exposedPort: 80, port: 8080, selectors: [['app=web']] } })).body;
      assert.equal((await t.call('DELETE', `/v1/services/${s.id}`)).status, 204);
      assert.equal((await t.call('GET', `/v1/services/${s.id}`)).status, 404);
      const log = await t.call('GET', '/v1/auditlogs?namespace=/shop/prod&limit=2');
      assert.equal(log.status, 200);
      assert.deepEqual(log.body.map((e: { action: string; kind: string }) => [e.action, e.kind]), [['delete', 'service'], ['create', 'service']]);
      assert.equal(log.body[0].actor.name, 'bootstrap-admin');
      assert.equal(log.body[0].before.name, 'lb');
      assert.equal(log.body[0].after, null);
      assert.equal(log.body[1].after.port, 8080);
    });

    it('refuses to delete a non-empty namespace unless asked to cascade', async () => {
      const ns = (await t.call('GET', '/v1/namespaces?namespace=/shop')).body.find((n: { name: string }) => n.name === '/shop/prod');
      const refused = await t.call('DELETE', `/v1/namespaces/${ns.id}`);
      assert.equal(refused.status, 409);
      assert.equal(refused.body.code, 'namespace_not_empty');
      assert.equal((await t.call('DELETE', `/v1/namespaces/${ns.id}?cascade=true`)).status, 204);
      assert.deepEqual((await t.call('GET', '/v1/networkaccesspolicies?namespace=/shop&recursive=true')).body, []);
      assert.equal((await t.call('GET', '/v1/processingunits?namespace=/shop/prod')).status, 404);
      const root = (await t.call('GET', '/v1/namespaces?namespace=')).status;
      assert.equal(root, 400, 'an empty namespace parameter is invalid, not the root');
    });

    it('namespaces: defaults, puCertificateTtlSeconds ≥ 300, relative names, no rename', async () => {
      const c = await t.call('POST', '/v1/namespaces', { body: { name: 'dev', namespace: '/shop' } });
      assert.equal(c.status, 201, c.text);
      assert.equal(c.body.name, '/shop/dev');
      assert.equal(c.body.namespace, '/shop');
      assert.equal(c.body.defaultAction, 'Reject');
      assert.equal(c.body.puCertificateTtlSeconds, 3600);
      const low = await t.call('PUT', `/v1/namespaces/${c.body.id}`, { body: { name: '/shop/dev', version: 1, puCertificateTtlSeconds: 299 } });
      assert.equal(low.status, 400);
      assert.equal(low.body.details[0].field, 'puCertificateTtlSeconds');
      const ok = await t.call('PUT', `/v1/namespaces/${c.body.id}`, { body: { name: '/shop/dev', version: 1, puCertificateTtlSeconds: 300, defaultAction: 'Allow' } });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.defaultAction, 'Allow');
      const rename = await t.call('PUT', `/v1/namespaces/${c.body.id}`, { body: { name: '/shop/other', version: 2 } });
      assert.equal(rename.body.code, 'namespace_immutable');
      const orphan = await t.call('POST', '/v1/namespaces', { body: { name: '/missing/child' } });
      assert.equal(orphan.status, 404);
      assert.equal(orphan.body.code, 'namespace_not_found');
    });
  });
}
