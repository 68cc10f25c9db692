// End-to-end tests of `palisade check` (POST /v1/policycheck) and `palisade enrollment-token create`
// (POST /v1/enrollmenttokens) against the real-HTTPS API double, plus the option parsers they use.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type ApiDouble, startApiDouble } from './testing/api-double';
import { createTlsFixture, type TlsFixture } from './testing/tls-fixture';
import { runCli } from './testing/run-cli';
import { parseDuration, parsePortOption } from './commands/args';
import { resolveIdentity } from './identities';

const SERVER_TAGS = '$namespace=/aporeto/lbtest3,$identity=processingunit,$type=HostService,hs:name=tcp:8106';

describe('palisade check and enrollment-token', () => {
  let tls: TlsFixture;
  let api: ApiDouble;
  let env: Record<string, string>;

  before(async () => {
    tls = await createTlsFixture();
    api = await startApiDouble({ keyPem: tls.serverKeyPem, certPem: tls.serverCertPem });
    env = { HOME: tls.dir, PALISADE_URL: api.url, PALISADE_TOKEN: 'tok-c', PALISADE_CA: tls.caFile };
  });
  after(async () => {
    await api.close();
    await tls.cleanup();
  });
  beforeEach(() => api.reset());

  it('check sends the issue-3 body and prints the verdict, the deciding policy and the explanation', async () => {
    api.route('POST', '/v1/policycheck', {
      status: 200,
      body: {
        action: 'Allow', policyName: 'client-to-mylbtest3', policyId: 'np-1', reason: 'policy',
        explanation: [
          { policyId: 'np-1', policyName: 'client-to-mylbtest3', matched: true, why: 'subject and object match' },
          { policyId: 'np-2', policyName: 'deny-rogue', matched: false, why: 'subject does not match' },
        ],
      },
    });
    const r = await runCli(
      ['check', '--subject', '$namespace=/aporeto/lbtest3,app=client', '--object', SERVER_TAGS, '--port', 'tcp/8106', '-n', '/aporeto/lbtest3'],
      { env },
    );
    assert.deepEqual(r, {
      code: 0,
      stderr: '',
      stdout:
        'Allow by policy client-to-mylbtest3 (reason: policy)\n\n' +
        'POLICY                MATCHED   WHY\n' +
        'client-to-mylbtest3   yes       subject and object match\n' +
        'deny-rogue            no        subject does not match\n',
    });
    const [req] = api.requests;
    assert.deepEqual([req.method, req.path, req.headers['content-type']], ['POST', '/v1/policycheck', 'application/json']);
    assert.deepEqual(JSON.parse(req.body), {
      namespace: '/aporeto/lbtest3',
      subject: ['$namespace=/aporeto/lbtest3', 'app=client'],
      object: ['$namespace=/aporeto/lbtest3', '$identity=processingunit', '$type=HostService', 'hs:name=tcp:8106'],
      port: 'tcp/8106',
    });
  });

  it('a Reject is an answer (exit 0); repeated --subject options add up; a bare port means tcp', async () => {
    api.route('POST', '/v1/policycheck', { status: 200, body: { action: 'Reject', policyName: null, policyId: null, reason: 'default' } });
    const r = await runCli(['check', '--subject', 'a=1', '--subject', 'b=2', '--object', 'c=3', '--port', '9999', '-n', '/x'], { env });
    assert.deepEqual(r, { code: 0, stdout: 'Reject (reason: default)\n', stderr: '' });
    assert.deepEqual(JSON.parse(api.requests[0].body), { namespace: '/x', subject: ['a=1', 'b=2'], object: ['c=3'], port: 'tcp/9999' });
  });

  it('check refuses a malformed port and missing options before sending (exit 2)', async () => {
    assert.deepEqual(await runCli(['check', '--subject', 'a=1', '--object', 'b=2', '--port', 'tcp/70000', '-n', '/x'], { env }), {
      code: 2, stdout: '', stderr: 'palisade: port_invalid: --port tcp/70000: expected tcp/PORT with PORT 1-65535, e.g. tcp/8106\n',
    });
    assert.deepEqual(await runCli(['check', '--subject', 'a=1', '--port', '80', '-n', '/x'], { env }), {
      code: 2, stdout: '', stderr: "palisade: usage: required option '--object <tags>' not specified (see palisade --help)\n",
    });
    assert.equal(api.requests.length, 0);
  });

  it('enrollment-token create sends namespace, tags, ttlSeconds, maxUses and prints only the token on stdout', async () => {
    api.route('POST', '/v1/enrollmenttokens', {
      status: 201,
      body: { id: 'et-1', token: 'pet_abc.def', namespace: '/aporeto/lbtest3', expiresAt: '2030-01-01T00:15:00.000Z', maxUses: 2 },
    });
    const r = await runCli(
      ['enrollment-token', 'create', '-n', '/aporeto/lbtest3', '--tags', 'app=client,env=lab', '--ttl', '15m', '--max-uses', '2'],
      { env },
    );
    assert.deepEqual(r, {
      code: 0,
      stdout: 'pet_abc.def\n',
      stderr: 'enrollment token et-1 for /aporeto/lbtest3: expires 2030-01-01T00:15:00.000Z, 2 use(s); shown once\n',
    });
    assert.deepEqual(JSON.parse(api.requests[0].body), { namespace: '/aporeto/lbtest3', tags: ['app=client', 'env=lab'], ttlSeconds: 900, maxUses: 2 });
    // Without the options the server's defaults apply: the CLI sends only the namespace.
    await runCli(['enrollment-token', 'create', '-n', '/a'], { env });
    assert.deepEqual(JSON.parse(api.requests[1].body), { namespace: '/a' });
    assert.deepEqual(await runCli(['enrollment-token', 'create', '-n', '/a', '--ttl', '10x'], { env }), {
      code: 2, stdout: '', stderr: 'palisade: duration_invalid: --ttl 10x: expected seconds or a duration like 10m, 1h30m\n',
    });
  });
});

describe('option parsers and identity names', () => {
  it('parseDuration reads seconds and h/m/s forms and refuses zero and junk', () => {
    assert.deepEqual(['600', '90s', '10m', '1h30m', '2h'].map((v) => parseDuration(v)), [600, 90, 600, 5400, 7200]);
    for (const bad of ['0', '', 'm', '1d', '-5', '1.5h']) {
      assert.throws(() => parseDuration(bad), { code: 'duration_invalid' }, bad);
    }
  });

  it('parsePortOption normalises to proto/port and refuses out-of-range ports', () => {
    assert.deepEqual(['tcp/8106', 'TCP/1', '65535', 'udp/53'].map((v) => parsePortOption(v)), ['tcp/8106', 'tcp/1', 'tcp/65535', 'udp/53']);
    for (const bad of ['tcp/0', 'tcp/65536', 'sctp/5', 'tcp/', 'tcp/1:2']) {
      assert.throws(() => parsePortOption(bad), { code: 'port_invalid' }, bad);
    }
  });

  it('resolveIdentity accepts the singular, plural and short forms of the brief', () => {
    const cases: Record<string, string> = {
      ns: 'namespaces', namespace: 'namespaces', pu: 'processingunits', ProcessingUnit: 'processingunits',
      netpol: 'networkaccesspolicies', policy: 'networkaccesspolicies', svc: 'services', agents: 'agents',
      flows: 'flowreports', tokens: 'apitokens', auditlogs: 'auditlogs', enrollmenttokens: 'enrollmenttokens',
    };
    for (const [word, plural] of Object.entries(cases)) {
      assert.equal(resolveIdentity(word).plural, plural, word);
    }
    assert.throws(() => resolveIdentity('pods'), { code: 'identity_unknown' });
  });
});
