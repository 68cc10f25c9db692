import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type TestApp, startTestApp } from '../testing/test-app';
import { backends } from '../testing/test-backends';

/** Every mutating route, with an id that exists where one is needed. */
const ROUTES = (ids: Record<string, string>) => [
  ['POST', '/v1/namespaces'],
  ['PUT', `/v1/namespaces/${ids.ns}`],
  ['POST', '/v1/processingunits'],
  ['PUT', `/v1/processingunits/${ids.pu}`],
  ['POST', '/v1/networkaccesspolicies'],
  ['PUT', `/v1/networkaccesspolicies/${ids.pol}`],
  ['POST', '/v1/services'],
  ['PUT', `/v1/services/${ids.svc}`],
  ['POST', '/v1/apitokens'],
  ['POST', '/v1/import'],
];

const GETS = ['/v1/namespaces', '/v1/processingunits', '/v1/networkaccesspolicies', '/v1/services', '/v1/export', '/v1/auditlogs'];

describe('no input of any shape yields a 5xx', () => {
  let t: TestApp;
  const ids: Record<string, string> = {};
  before(async () => {
    t = await startTestApp(backends()[0]);
    ids.ns = (await t.call('POST', '/v1/namespaces', { body: { name: '/g' } })).body.id;
    ids.pu = (await t.call('POST', '/v1/processingunits', { body: { name: 'p', namespace: '/g', type: 'Host' } })).body.id;
    ids.pol = (await t.call('POST', '/v1/networkaccesspolicies', { body: { name: 'p', namespace: '/g', subject: [['a=b']], object: [['c=d']], action: 'Allow' } })).body.id;
    ids.svc = (await t.call('POST', '/v1/services', { body: { name: 's', namespace: '/g', hosts: ['x'], exposedPort: 1, port: 2, selectors: [['a=b']] } })).body.id;
  });
  after(async () => t?.stop());

  const fixed: unknown[] = [
    null, 0, -1, 1e308, true, 'x', [], [[[]]], {},
    { name: null, namespace: 5, type: [], version: '1' },
    { name: 'a'.repeat(100_000), namespace: `/${'b'.repeat(10_000)}` },
    { name: 'n', namespace: '/g', subject: { a: 1 }, object: 'x', action: 'Allow', ports: [1, null], selectors: [[1]], exposedPort: 1.5, port: -3, version: 1e20 },
    { name: 'n', namespace: '/g', type: 'Host', associatedTags: ['=', 'a', ''.padEnd(2000, 'k') + '=v'], version: 1 },
    { name: 'n', namespace: '/g/../..', expirationTime: '2024-13-45T99:99:99Z', version: 1 },
    { __proto__: { admin: true }, constructor: { prototype: { x: 1 } }, name: 7 },
    { APIVersion: 0, data: { services: 'nope', processingunits: [null, 1, 'x', { name: {} }], namespaces: [{ name: '//' }] } },
    { APIVersion: 'zero', data: [], identities: 7 },
  ];

  it('fixed garbage bodies at every mutating route: 4xx with the envelope', async () => {
    for (const [method, path] of ROUTES(ids)) {
      for (const body of fixed) {
        const r = await t.call(method, path, { body: JSON.stringify(body), contentType: 'application/json' });
        assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} ${JSON.stringify(body).slice(0, 80)} → ${r.status} ${r.text.slice(0, 200)}`);
        assert.equal(typeof r.body.code, 'string');
        assert.equal(r.body.statusCode, r.status);
      }
    }
  });

  it('malformed JSON, YAML, wrong content types and huge bodies: 4xx', async () => {
    const bodies: [string, string][] = [
      ['{"a":', 'application/json'],
      ['\u0000\u0001', 'application/json'],
      ['a: [b', 'application/yaml'],
      ['&a [*a, *a]', 'application/yaml'],
      ['<xml/>', 'application/xml'],
      ['x'.repeat(6 * 1024 * 1024), 'application/json'],
    ];
    for (const [method, path] of ROUTES(ids)) {
      for (const [body, type] of bodies) {
        const r = await t.call(method, path, { body, contentType: type });
        assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} ${type} → ${r.status} ${r.text.slice(0, 200)}`);
      }
    }
  });

  it('malformed JSON is 400 body_malformed, an oversized body 413 payload_too_large', async () => {
    const bad = await t.call('POST', '/v1/namespaces', { body: '{"a":', contentType: 'application/json' });
    assert.deepEqual([bad.status, bad.body.code], [400, 'body_malformed'], bad.text);
    const big = await t.call('POST', '/v1/import', { body: `"${'x'.repeat(6 * 1024 * 1024)}"`, contentType: 'application/json' });
    assert.deepEqual([big.status, big.body.code], [413, 'payload_too_large'], big.text.slice(0, 200));
  });

  it('garbage ids and query strings on reads and deletes: 4xx', async () => {
    const queries = ['?namespace=x', '?namespace=/g&recursive=maybe', '?namespace[]=/g', '?namespace=/g&namespace=/h', '?limit=-1', '?limit=abc', `?name=${'z'.repeat(5000)}`, '?format=xml', '?before=1e99'];
    for (const path of GETS) {
      for (const q of queries) {
        const r = await t.call('GET', path + q);
        assert.ok(r.status < 500, `GET ${path}${q} → ${r.status} ${r.text.slice(0, 200)}`);
      }
    }
    for (const kind of ['namespaces', 'processingunits', 'networkaccesspolicies', 'services', 'apitokens']) {
      for (const id of ['x', "' OR 1=1 --", '00000000-0000-0000-0000-00000000000g', '%00', '-'.repeat(36)]) {
        for (const method of ['GET', 'DELETE', 'PUT']) {
          const r = await t.call(method, `/v1/${kind}/${encodeURIComponent(id)}`, method === 'PUT' ? { body: { version: 1 } } : {});
          assert.ok(r.status >= 400 && r.status < 500, `${method} ${kind}/${id} → ${r.status}`);
        }
      }
    }
  });

  it('random JSON values (property test) never produce a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES(ids)), fc.jsonValue({ maxDepth: 4 }), async ([method, path], body) => {
        const r = await t.call(method, path, { body: JSON.stringify(body), contentType: 'application/json' });
        return r.status >= 400 && r.status < 500;
      }),
      { numRuns: 150 },
    );
  });
});
