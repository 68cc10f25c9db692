import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, startTestApp } from '../testing/test-app';
import { backends } from '../testing/test-backends';

/** One sample object per namespaced resource, to create in /acme/a and probe from a /acme/b token. */
const RESOURCES: { path: string; body: (ns: string) => Record<string, unknown>; change: Record<string, unknown> }[] = [
  { path: 'processingunits', body: (ns) => ({ name: 'web', namespace: ns, type: 'HostService', ports: ['tcp/8106'] }), change: { type: 'Host' } },
  {
    path: 'networkaccesspolicies',
    body: (ns) => ({ name: 'p', namespace: ns, subject: [['app=client']], object: [['app=server']], action: 'Allow' }),
    change: { action: 'Reject' },
  },
  {
    path: 'services',
    body: (ns) => ({ name: 's', namespace: ns, hosts: ['lb.example'], exposedPort: 7106, port: 8106, selectors: [['app=server']] }),
    change: { port: 9000 },
  },
];

for (const backend of backends()) {
  describe(`tenant isolation (${backend.name})`, () => {
    let t: TestApp;
    let other: string; // editor on /acme/b
    let viewerA: string; // viewer on /acme/a
    const ids: Record<string, string> = {};
    let nsA = '';

    before(async () => {
      t = await startTestApp(backend);
      for (const name of ['/acme', '/acme/a', '/acme/a/deep', '/acme/b']) {
        const r = await t.call('POST', '/v1/namespaces', { body: { name } });
        assert.equal(r.status, 201, r.text);
        if (name === '/acme/a') {
          nsA = r.body.id;
        }
      }
      other = (await t.call('POST', '/v1/apitokens', { body: { name: 'b-editor', role: 'editor', namespace: '/acme/b' } })).body.token;
      viewerA = (await t.call('POST', '/v1/apitokens', { body: { name: 'a-viewer', role: 'viewer', namespace: '/acme/a' } })).body.token;
      for (const r of RESOURCES) {
        const c = await t.call('POST', `/v1/${r.path}`, { body: r.body('/acme/a') });
        assert.equal(c.status, 201, c.text);
        ids[r.path] = c.body.id;
      }
    });
    after(async () => t?.stop());

    for (const r of RESOURCES) {
      it(`${r.path}: a caller scoped elsewhere can neither read, list, change nor delete it (404)`, async () => {
        const id = ids[r.path];
        const get = await t.call('GET', `/v1/${r.path}/${id}`, { token: other });
        assert.equal(get.status, 404);
        assert.equal(get.body.code, `${r.path === 'processingunits' ? 'processing_unit' : r.path === 'services' ? 'service' : 'network_policy'}_not_found`);
        assert.equal((await t.call('GET', `/v1/${r.path}?namespace=/acme/a`, { token: other })).status, 404);
        const mine = await t.call('GET', `/v1/${r.path}?namespace=/acme&recursive=true`, { token: other });
        assert.equal(mine.status, 404, 'the parent of its scope is outside it too');
        const own = await t.call('GET', `/v1/${r.path}?recursive=true`, { token: other });
        assert.deepEqual(own.body, []);
        const put = await t.call('PUT', `/v1/${r.path}/${id}`, { token: other, body: { ...r.body('/acme/a'), ...r.change, version: 1 } });
        assert.equal(put.status, 404);
        assert.equal((await t.call('DELETE', `/v1/${r.path}/${id}`, { token: other })).status, 404);
        const create = await t.call('POST', `/v1/${r.path}`, { token: other, body: { ...r.body('/acme/a'), name: 'sneaky' } });
        assert.equal(create.status, 404);
        assert.equal(create.body.code, 'namespace_not_found');
        // Still there and unchanged.
        const still = await t.call('GET', `/v1/${r.path}/${id}`);
        assert.equal(still.status, 200);
        assert.equal(still.body.version, 1);
      });

      it(`${r.path}: a viewer of the subtree reads it (also recursively) but cannot change it (403)`, async () => {
        const id = ids[r.path];
        assert.equal((await t.call('GET', `/v1/${r.path}/${id}`, { token: viewerA })).status, 200);
        const list = await t.call('GET', `/v1/${r.path}?recursive=true`, { token: viewerA });
        assert.deepEqual(list.body.map((o: { id: string }) => o.id), [id]);
        const del = await t.call('DELETE', `/v1/${r.path}/${id}`, { token: viewerA });
        assert.equal(del.status, 403);
        assert.equal(del.body.code, 'forbidden');
      });
    }

    it('namespaces: invisible outside the subtree, and export/import stay inside it', async () => {
      assert.equal((await t.call('GET', `/v1/namespaces/${nsA}`, { token: other })).status, 404);
      assert.equal((await t.call('DELETE', `/v1/namespaces/${nsA}?cascade=true`, { token: other })).status, 404);
      assert.equal((await t.call('PUT', `/v1/namespaces/${nsA}`, { token: other, body: { name: '/acme/a', version: 1, defaultAction: 'Allow' } })).status, 404);
      assert.equal((await t.call('GET', '/v1/export?namespace=/acme/a', { token: other })).status, 404);
      const imp = await t.call('POST', '/v1/import', { token: other, contentType: 'application/json', body: { data: { processingunits: [{ name: 'x', namespace: '/acme/a', type: 'Host' }] } } });
      assert.equal(imp.status, 404);
      const list = await t.call('GET', '/v1/namespaces?namespace=/acme&recursive=true');
      assert.deepEqual(list.body.map((n: { name: string }) => n.name), ['/acme/a', '/acme/a/deep', '/acme/b']);
      assert.equal((await t.call('GET', '/v1/namespaces?namespace=/acme', { token: other })).status, 404);
    });

    it('API tokens and audit logs need admin; no token is 401', async () => {
      assert.equal((await t.call('GET', '/v1/apitokens', { token: other })).status, 403);
      assert.equal((await t.call('GET', '/v1/auditlogs', { token: other })).status, 403);
      const none = await t.call('GET', '/v1/processingunits', { token: null });
      assert.equal(none.status, 401);
      assert.equal(none.body.code, 'unauthenticated');
      assert.equal((await t.call('GET', '/v1/processingunits', { token: 'pal_not-a-real-token' })).status, 401);
    });

    it('a scoped admin cannot mint a token for a namespace outside its subtree', async () => {
      const adminB = (await t.call('POST', '/v1/apitokens', { body: { name: 'b-admin', role: 'admin', namespace: '/acme/b' } })).body.token;
      const r = await t.call('POST', '/v1/apitokens', { token: adminB, body: { name: 'escalate', role: 'admin', namespace: '/acme' } });
      assert.equal(r.status, 404);
      const listed = await t.call('GET', '/v1/apitokens', { token: adminB });
      assert.deepEqual(listed.body.map((x: { namespace: string }) => x.namespace), ['/acme/b', '/acme/b']);
      assert.ok(listed.body.every((x: Record<string, unknown>) => !('token' in x) && !('tokenHash' in x)), 'secrets are never listed');
    });
  });
}
