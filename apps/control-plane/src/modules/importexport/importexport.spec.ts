import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { type TestApp, startTestApp } from '../../testing/test-app';
import { backends } from '../../testing/test-backends';

const examples = join(__dirname, '..', '..', '..', '..', '..', '..', 'examples');
const read = (f: string) => readFileSync(join(examples, f), 'utf8');

for (const backend of backends()) {
  describe(`import/export (${backend.name})`, () => {
    let t: TestApp;
    const exportAll = async () => (await t.call('GET', '/v1/export?namespace=/')).text;

    before(async () => {
      t = await startTestApp(backend);
    });
    after(async () => t?.stop());

    it('imports both seed examples as they are, and export → re-import → export is byte-for-byte stable', async () => {
      const policy = await t.call('POST', '/v1/import?createNamespaces=true', { body: read('seed-policy.yaml') });
      assert.equal(policy.status, 200, policy.text);
      assert.equal(policy.body.created, 2); // the namespace the document names + the policy
      const svc = await t.call('POST', '/v1/import?namespace=/aporeto/lbtest3', { body: read('seed-lb-service.yaml') });
      assert.equal(svc.status, 200, svc.text);
      assert.deepEqual(svc.body.objects, [{ kind: 'service', namespace: '/aporeto/lbtest3', name: 'service_mylbtest3_7106_to_8106', result: 'created' }]);

      const first = await t.call('GET', '/v1/export?namespace=/aporeto');
      assert.equal(first.status, 200);
      assert.match(String(first.headers['content-type']), /^application\/yaml/);
      const again = await t.call('POST', '/v1/import', { body: first.text });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.created + again.body.updated, 0, 'a re-import of an export changes nothing');
      assert.equal((await t.call('GET', '/v1/export?namespace=/aporeto')).text, first.text);

      // Each seed re-imported as is is a no-op too.
      const seedAgain = await t.call('POST', '/v1/import', { body: read('seed-policy.yaml') });
      assert.equal(seedAgain.body.unchanged, 1);
      // The JSON form carries the same document.
      const json = await t.call('GET', '/v1/export?namespace=/aporeto&format=json');
      assert.equal(json.body.data.services[0].exposedPort, 7106);
      assert.deepEqual(json.body.identities, ['namespace', 'networkaccesspolicy', 'service']);
    });

    it('refuses a namespace that neither exists nor is created by the document', async () => {
      const doc = read('seed-policy.yaml').replace(/\/aporeto\/lbtest3/g, '/nowhere');
      const r = await t.call('POST', '/v1/import', { body: doc });
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'namespace_not_found');
    });

    it('refuses every case of bad-inputs.yaml with a 4xx naming the field, and changes nothing', async () => {
      const before = await exportAll();
      const cases = parseAllDocuments(read('bad-inputs.yaml')).map((d) => JSON.stringify(d.toJSON()));
      assert.equal(cases.length, 4);
      const expected = ['data.services[0].exposedPort', 'data.networkaccesspolicies[0].subject[0]', 'data.processingunits[0].associatedTags[0]', 'data.services[0].exposedPort'];
      for (const [i, body] of cases.entries()) {
        const r = await t.call('POST', '/v1/import?namespace=/aporeto/lbtest3', { body, contentType: 'application/json' });
        assert.ok(r.status >= 400 && r.status < 500, `case ${i}: ${r.status} ${r.text}`);
        assert.equal(r.body.code, 'validation_failed', `case ${i}`);
        const fields = (r.body.details as { field: string }[]).map((d) => d.field);
        assert.ok(fields.includes(expected[i]), `case ${i}: ${fields.join(', ')}`);
        assert.match(r.body.message, new RegExp(expected[i].replace(/[[\].]/g, '\\$&')));
      }
      assert.equal(await exportAll(), before);
    });

    it('names the codes of the policy parser (forged system tag, empty clause, port range)', async () => {
      const r = await t.call('POST', '/v1/import', {
        contentType: 'application/json',
        body: { APIVersion: 0, data: { processingunits: [{ name: 'x', namespace: '/aporeto/lbtest3', type: 'HostService', associatedTags: ['$identity=admin'] }] } },
      });
      assert.equal(r.status, 400);
      assert.deepEqual(r.body.details[0], { field: 'data.processingunits[0].associatedTags[0]', code: 'tag_system_forbidden', message: r.body.details[0].message });
    });

    it('applies a document all or nothing: a bad last object leaves the good first one out', async () => {
      const before = await exportAll();
      const r = await t.call('POST', '/v1/import', {
        contentType: 'application/json',
        body: {
          APIVersion: 0,
          data: {
            processingunits: [{ name: 'good', namespace: '/aporeto/lbtest3', type: 'Host' }],
            // Passes DTO validation but fails in the transaction (no address to dial).
            services: [{ name: 'no-address', namespace: '/aporeto/lbtest3', exposedPort: 1, port: 2, selectors: [['a=b']] }],
          },
        },
      });
      assert.equal(r.status, 400);
      assert.equal(r.body.details[0].field, 'data.services[0].hosts');
      assert.equal(await exportAll(), before);
    });

    it('two concurrent imports, one failing, leave exactly the other one’s changes', async () => {
      const before = (await t.call('GET', '/v1/export?namespace=/aporeto/lbtest3&format=json')).body;
      const good = { APIVersion: 0, data: { processingunits: Array.from({ length: 5 }, (_, i) => ({ name: `ok-${i}`, namespace: '/aporeto/lbtest3', type: 'Host' })) } };
      const bad = {
        APIVersion: 0,
        data: {
          processingunits: Array.from({ length: 5 }, (_, i) => ({ name: `bad-${i}`, namespace: '/aporeto/lbtest3', type: 'Host' })),
          services: [{ name: 'no-address', namespace: '/aporeto/lbtest3', exposedPort: 1, port: 2, selectors: [['a=b']] }],
        },
      };
      const [a, b] = await Promise.all([
        t.call('POST', '/v1/import', { body: good, contentType: 'application/json' }),
        t.call('POST', '/v1/import', { body: bad, contentType: 'application/json' }),
      ]);
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 400, b.text);
      const after = (await t.call('GET', '/v1/export?namespace=/aporeto/lbtest3&format=json')).body;
      const names = (after.data.processingunits as { name: string }[]).map((p) => p.name);
      assert.deepEqual(names, ['ok-0', 'ok-1', 'ok-2', 'ok-3', 'ok-4']);
      assert.deepEqual(after.data.services, before.data.services);
      assert.deepEqual(after.data.networkaccesspolicies, before.data.networkaccesspolicies);
    });

    it('refuses unsupported media types and malformed YAML with 4xx', async () => {
      const plain = await t.call('POST', '/v1/import', { body: 'APIVersion: 0', contentType: 'text/plain' });
      assert.equal(plain.status, 415);
      assert.equal(plain.body.code, 'unsupported_media_type');
      const broken = await t.call('POST', '/v1/import', { body: 'data: [unclosed', contentType: 'application/yaml' });
      assert.equal(broken.status, 400);
      assert.equal(broken.body.code, 'document_malformed');
    });
  });
}
