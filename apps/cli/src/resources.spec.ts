// End-to-end tests of the resource commands (apply, get, delete, export) against the real-HTTPS API double:
// the exact requests they send and the exact output and exit statuses they produce.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { type ApiDouble, envelope, startApiDouble } from './testing/api-double';
import { createTlsFixture, type TlsFixture } from './testing/tls-fixture';
import { runCli, runCliProcess } from './testing/run-cli';

const EXAMPLES = resolve(__dirname, '../../../../examples');

const PU = {
  id: 'pu-1', name: 'server-8106', namespace: '/aporeto/lbtest3', type: 'HostService',
  ports: ['tcp/8106'], associatedTags: ['app=server', 'env=lab'],
};
const POLICY = {
  id: 'np-1', name: 'client-to-mylbtest3', namespace: '/aporeto/lbtest3', action: 'Allow',
  subject: [['$namespace=/aporeto/lbtest3', 'app=client']], object: [['service=mylbtest3']], ports: [],
};

describe('palisade resource commands', () => {
  let tls: TlsFixture;
  let api: ApiDouble;
  let env: Record<string, string>;

  before(async () => {
    tls = await createTlsFixture();
    api = await startApiDouble({ keyPem: tls.serverKeyPem, certPem: tls.serverCertPem });
    env = { HOME: tls.dir, PALISADE_URL: api.url, PALISADE_TOKEN: 'tok-r', PALISADE_CA: tls.caFile };
  });
  after(async () => {
    await api.close();
    await tls.cleanup();
  });
  beforeEach(() => api.reset());

  describe('apply', () => {
    it('sends the seed service document as JSON to POST /v1/import with the namespace', async () => {
      api.route('POST', '/v1/import', { status: 200, body: {} });
      const file = resolve(EXAMPLES, 'seed-lb-service.yaml');
      const r = await runCli(['apply', '-f', file, '-n', '/aporeto/lbtest3'], { env });
      assert.deepEqual(r, { code: 0, stdout: 'service/service_mylbtest3_7106_to_8106 applied\n', stderr: '' });
      assert.equal(api.requests.length, 1);
      const [req] = api.requests;
      assert.equal(req.method, 'POST');
      assert.equal(req.path, '/v1/import');
      assert.deepEqual(req.query, { namespace: '/aporeto/lbtest3' });
      assert.equal(req.headers['content-type'], 'application/json');
      assert.equal(req.headers.authorization, 'Bearer tok-r');
      assert.deepEqual(JSON.parse(req.body), parse(await readFile(file, 'utf8')));
    });

    it('reads stdin with -f - and passes --create-namespaces as createNamespaces=true', async () => {
      api.route('POST', '/v1/import', { status: 204 });
      const text = await readFile(resolve(EXAMPLES, 'seed-policy.yaml'), 'utf8');
      const r = await runCliProcess(['apply', '-f', '-', '--create-namespaces'], { env, stdin: text });
      assert.deepEqual(r, { code: 0, stdout: 'networkaccesspolicy/client-to-mylbtest3 applied\n', stderr: '' });
      assert.deepEqual(api.requests[0].query, { createNamespaces: 'true' });
      assert.deepEqual(JSON.parse(api.requests[0].body), parse(text));
    });

    it('prints a validation error as one line naming the field (exit 1)', async () => {
      api.route('POST', '/v1/import', envelope(400, 'validation_failed', 'the document is invalid', [
        { field: 'data.services[0].exposedPort', code: 'port_out_of_range', message: 'must be 1-65535' },
        { field: 'data.services[0].namespace', code: 'namespace_missing', message: 'required' },
      ]));
      const r = await runCli(['apply', '-f', resolve(EXAMPLES, 'seed-lb-service.yaml')], { env });
      assert.deepEqual(r, {
        code: 1,
        stdout: '',
        stderr: 'palisade: validation_failed: the document is invalid (field data.services[0].exposedPort: must be 1-65535, +1 more)\n',
      });
      const verbose = await runCli(['-v', 'apply', '-f', resolve(EXAMPLES, 'seed-lb-service.yaml')], { env });
      assert.equal(
        verbose.stderr,
        'palisade: validation_failed: the document is invalid (field data.services[0].exposedPort: must be 1-65535, +1 more)\n' +
          '  status 400, request req-validation_failed\n' +
          '  field data.services[0].exposedPort [port_out_of_range]: must be 1-65535\n' +
          '  field data.services[0].namespace [namespace_missing]: required\n',
      );
    });

    it('refuses a file of several documents, broken YAML or no data mapping before sending anything (exit 2)', async () => {
      const multi = resolve(EXAMPLES, 'bad-inputs.yaml');
      assert.deepEqual(await runCli(['apply', '-f', multi], { env }), {
        code: 2, stdout: '', stderr: `palisade: file_invalid: ${multi}: holds 4 documents; apply them one file at a time\n`,
      });
      const broken = await runCli(['apply', '-f', '-'], { env, stdin: 'APIVersion: 0\ndata:\n  services: [\n' });
      assert.equal(broken.code, 2);
      assert.match(broken.stderr, /^palisade: file_invalid: <stdin>:\d+: .+\n$/);
      assert.deepEqual(await runCli(['apply', '-f', '-'], { env, stdin: '[1, 2]' }), {
        code: 2, stdout: '', stderr: 'palisade: file_invalid: <stdin>: not an import document (expected a mapping with APIVersion and data)\n',
      });
      assert.deepEqual(await runCli(['apply', '-f', '/nonexistent.yaml'], { env }), {
        code: 2, stdout: '', stderr: 'palisade: file_unreadable: cannot read /nonexistent.yaml: ENOENT\n',
      });
      assert.equal(api.requests.length, 0);
    });
  });

  describe('get', () => {
    it('lists with namespace and recursive=true and prints a table', async () => {
      api.route('GET', '/v1/processingunits', { status: 200, body: [PU, { ...PU, id: 'pu-2', name: 'h', type: 'Host', ports: [], associatedTags: [] }] });
      const r = await runCli(['get', 'pu', '-n', '/aporeto', '--recursive'], { env });
      assert.deepEqual(api.requests.map((q) => [q.method, q.path, q.query]), [
        ['GET', '/v1/processingunits', { namespace: '/aporeto', recursive: 'true' }],
      ]);
      assert.deepEqual(r, {
        code: 0,
        stderr: '',
        stdout:
          'NAME          NAMESPACE          TYPE          PORTS      TAGS\n' +
          'server-8106   /aporeto/lbtest3   HostService   tcp/8106   app=server,env=lab\n' +
          'h             /aporeto/lbtest3   Host          -          -\n',
      });
    });

    it('prints selectors readably, and json/yaml unchanged', async () => {
      api.route('GET', '/v1/networkaccesspolicies', { status: 200, body: { items: [POLICY] } });
      const table = await runCli(['get', 'netpol'], { env });
      assert.equal(
        table.stdout,
        'NAME                  NAMESPACE          ACTION   SUBJECT                                    OBJECT              PORTS\n' +
          'client-to-mylbtest3   /aporeto/lbtest3   Allow    $namespace=/aporeto/lbtest3 & app=client   service=mylbtest3   -\n',
      );
      assert.deepEqual(api.requests[0].query, {});
      const json = await runCli(['get', 'policies', '-o', 'json'], { env });
      assert.equal(json.stdout, JSON.stringify([POLICY], null, 2) + '\n');
      const yaml = await runCli(['get', 'networkaccesspolicy', 'client-to-mylbtest3', '-o', 'yaml'], { env });
      assert.deepEqual(parse(yaml.stdout), [POLICY]);
      assert.match(yaml.stdout, /^- id: np-1\n {2}name: client-to-mylbtest3\n/);
    });

    it('a NAME that does not exist is not_found (exit 1); an unknown resource or -o is a usage error (exit 2)', async () => {
      api.route('GET', '/v1/services', { status: 200, body: [] });
      assert.deepEqual(await runCli(['get', 'svc', 'nope', '-n', '/x'], { env }), {
        code: 1, stdout: '', stderr: 'palisade: not_found: service "nope" not found in /x\n',
      });
      assert.deepEqual(await runCli(['get', 'svc', '-o', 'xml'], { env }), {
        code: 2, stdout: '', stderr: 'palisade: output_invalid: -o xml: expected one of table, yaml, json\n',
      });
      const unknown = await runCli(['get', 'pods'], { env });
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /^palisade: identity_unknown: unknown resource "pods" \(one of: namespaces, processingunits, /);
    });

    it('an answer that is not the error envelope still gives one line (exit 1)', async () => {
      api.route('GET', '/v1/flowreports', { status: 502, body: 'Bad Gateway', contentType: 'text/plain' });
      assert.deepEqual(await runCli(['get', 'flows'], { env }), { code: 1, stdout: '', stderr: 'palisade: http_502: Bad Gateway\n' });
    });
  });

  describe('delete', () => {
    it('resolves NAME to its id by listing the namespace, then DELETE /v1/<identity>/<id>', async () => {
      api.route('GET', '/v1/networkaccesspolicies', { status: 200, body: [{ ...POLICY, id: 'other', name: 'other' }, POLICY] });
      api.route('DELETE', '/v1/networkaccesspolicies/np-1', { status: 204 });
      const r = await runCli(['delete', 'policy', 'client-to-mylbtest3', '-n', '/aporeto/lbtest3'], { env });
      assert.deepEqual(r, { code: 0, stdout: 'networkaccesspolicy/client-to-mylbtest3 deleted\n', stderr: '' });
      assert.deepEqual(api.requests.map((q) => [q.method, q.path, q.query]), [
        ['GET', '/v1/networkaccesspolicies', { namespace: '/aporeto/lbtest3' }],
        ['DELETE', '/v1/networkaccesspolicies/np-1', {}],
      ]);
    });

    it('deletes a namespace named by its last segment or its full path, with --cascade', async () => {
      api.route('GET', '/v1/namespaces', { status: 200, body: [{ id: 'ns-9', name: '/acme/prod', namespace: '/acme' }] });
      api.route('DELETE', '/v1/namespaces/ns-9', { status: 200, body: {} });
      assert.equal((await runCli(['delete', 'ns', 'prod', '-n', '/acme', '--cascade'], { env })).code, 0);
      assert.equal((await runCli(['delete', 'namespace', '/acme/prod'], { env })).code, 0);
      assert.deepEqual(api.requests.map((q) => [q.method, q.path, q.query]), [
        ['GET', '/v1/namespaces', { namespace: '/acme' }],
        ['DELETE', '/v1/namespaces/ns-9', { cascade: 'true' }],
        ['GET', '/v1/namespaces', { namespace: '/acme' }],
        ['DELETE', '/v1/namespaces/ns-9', {}],
      ]);
    });

    it('deletes nothing when the name is not there (exit 1) or -n is missing (exit 2)', async () => {
      api.route('GET', '/v1/services', { status: 200, body: [] });
      assert.deepEqual(await runCli(['delete', 'svc', 'gone', '-n', '/x'], { env }), {
        code: 1, stdout: '', stderr: 'palisade: not_found: service "gone" not found in /x\n',
      });
      assert.deepEqual(await runCli(['delete', 'svc', 'gone'], { env }), {
        code: 2, stdout: '', stderr: 'palisade: namespace_required: -n NAMESPACE is required to delete a service\n',
      });
      assert.deepEqual(await runCli(['delete', 'flows', 'x', '-n', '/x'], { env }), {
        code: 2, stdout: '', stderr: 'palisade: not_deletable: flowreports cannot be deleted\n',
      });
      assert.deepEqual(api.requests.map((q) => q.method), ['GET']);
    });
  });

  describe('export', () => {
    const DOC = { APIVersion: 0, data: { networkaccesspolicies: [POLICY] }, identities: ['networkaccesspolicy'] };

    it('GET /v1/export?namespace= printed as YAML that parses back to the same document, or as JSON', async () => {
      api.route('GET', '/v1/export', { status: 200, body: DOC });
      const y = await runCli(['export', '-n', '/aporeto/lbtest3'], { env });
      assert.equal(y.code, 0, y.stderr);
      assert.deepEqual(parse(y.stdout), DOC);
      assert.deepEqual(api.requests[0].query, { namespace: '/aporeto/lbtest3' });
      const j = await runCli(['export', '-n', '/aporeto/lbtest3', '-o', 'json'], { env });
      assert.equal(j.stdout, JSON.stringify(DOC, null, 2) + '\n');
    });

    it('passes a YAML answer through byte for byte', async () => {
      const text = 'APIVersion: 0\ndata:\n  services: []\nidentities: []\n';
      api.route('GET', '/v1/export', { status: 200, body: text, contentType: 'application/yaml' });
      assert.deepEqual(await runCli(['export', '-n', '/x'], { env }), { code: 0, stdout: text, stderr: '' });
    });
  });
});
