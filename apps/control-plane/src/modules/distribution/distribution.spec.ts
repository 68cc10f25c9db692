import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RuleSet } from '@palisade/policy';
import { startControlPlane, type ControlPlane } from '../../app';
import { JsonLogger } from '../../common/json-logger';
import { type TestApp, startTestApp } from '../../testing/test-app';
import { backends, createTestDatabase, TEST_ADMIN_TOKEN, testConfig } from '../../testing/test-backends';
import { AgentSocket, createPolicy, enrollAgent, helloFor, HOST_SERVICE, importSeeds, NS } from '../agents/agents.testkit';

const SERVER_PU = { ...HOST_SERVICE, associatedTags: ['app=server', 'hs:name=tcp:8106'] };

for (const backend of backends()) {
  describe(`rule-set distribution (${backend.name})`, () => {
    let t: TestApp;
    let a: Awaited<ReturnType<typeof enrollAgent>>;
    let sa: AgentSocket;
    let current: RuleSet;

    before(async () => {
      t = await startTestApp(backend);
      await importSeeds(t);
      assert.equal((await t.call('POST', '/v1/namespaces', { body: { name: '/other' } })).status, 201);
      a = await enrollAgent(t, { tags: ['app=server'], hostname: 'server-host' });
      sa = await AgentSocket.open(t, a, helloFor(a.agentId, { pus: [SERVER_PU] }));
      current = await sa.ruleSet();
    });
    after(async () => {
      sa?.close();
      await t?.stop();
    });

    it('sends the first rule set on hello, holding the declared unit with its effective tags', async () => {
      assert.equal(current.agentId, a.agentId);
      assert.equal(current.namespace, NS);
      assert.match(current.hash, /^[0-9a-f]{64}$/);
      assert.equal(current.pus.length, 1);
      assert.equal(current.pus[0].name, 'tcp:8106');
      for (const tag of [`$namespace=${NS}`, '$identity=processingunit', '$type=HostService', '$name=tcp:8106', 'hs:name=tcp:8106', 'app=server']) {
        assert.ok(current.pus[0].tags.includes(tag), tag);
      }
      assert.ok(current.trustBundle.length >= 2);
    });

    it('pushes a policy write (POST, then DELETE) as a new rule set whose hash differs', async () => {
      const id = await createPolicy(t, { name: 'web-in', subject: [['app=web']], object: [['app=server']], ports: ['tcp/8106'] });
      const added = await sa.ruleSet((r) => r.policies.some((p) => p.name === 'web-in'));
      assert.notEqual(added.hash, current.hash);
      assert.ok(added.revision > current.revision);
      const del = await t.call('DELETE', `/v1/networkaccesspolicies/${id}`);
      assert.ok(del.status === 200 || del.status === 204, del.text);
      const removed = await sa.ruleSet((r) => !r.policies.some((p) => p.name === 'web-in'));
      assert.notEqual(removed.hash, added.hash);
      assert.equal(removed.hash, current.hash, 'the same content hashes the same');
      current = removed;
    });

    it('records the ack: GET /v1/agents shows applied = desired and inSync', async () => {
      const before = (await t.call('GET', `/v1/agents/${a.agentId}`)).body;
      assert.equal(before.desiredHash, current.hash);
      assert.equal(before.inSync, false);
      sa.send({ type: 'ack', revision: current.revision, hash: current.hash });
      await sa.barrier();
      const v = (await t.call('GET', `/v1/agents/${a.agentId}`)).body;
      assert.equal(v.appliedRevision, current.revision);
      assert.equal(v.appliedHash, current.hash);
      assert.equal(v.desiredRevision, current.revision);
      assert.equal(v.inSync, true);
      sa.send({ type: 'nack', revision: current.revision, hash: 'f'.repeat(64), reason: 'port 8106 in use' });
      await sa.barrier();
      const n = (await t.call('GET', `/v1/agents/${a.agentId}`)).body;
      assert.equal(n.lastNack, 'port 8106 in use');
      assert.equal(n.appliedHash, current.hash, 'a nack does not move the applied revision');
    });

    it('does not resend an identical rule set for a change that leaves it unchanged', async () => {
      // B lives in /other; a policy in /aporeto/lbtest3 changes A's rule set and not B's. A receiving its new
      // rule set proves the recompute for that change ran; the next one B receives must be the one a later
      // change in /other causes (recomputes never overlap, so a resend would have come first).
      const b = await enrollAgent(t, { namespace: '/other', tags: ['app=server'], hostname: 'other-host' });
      const sb = await AgentSocket.open(t, b, helloFor(b.agentId, { pus: [SERVER_PU] }));
      const b0 = await sb.ruleSet();
      await createPolicy(t, { name: 'only-a', subject: [['app=only-a']], object: [['app=server']] });
      const a1 = await sa.ruleSet((r) => r.policies.some((p) => p.name === 'only-a'));
      assert.notEqual(a1.hash, current.hash);
      current = a1;
      const r = await t.call('POST', '/v1/networkaccesspolicies', { body: { name: 'only-b', namespace: '/other', subject: [['app=only-b']], object: [['app=server']], action: 'Allow' } });
      assert.equal(r.status, 201, r.text);
      const b1 = await sb.ruleSet();
      assert.notEqual(b1.hash, b0.hash, 'the first rule set B got after the unrelated change is a new one');
      assert.ok(b1.policies.some((p) => p.name === 'only-b'));
      assert.ok(!b1.policies.some((p) => p.name === 'only-a'));
      await sb.barrier();
      assert.deepEqual(sb.drain(), []);
      sb.close();
    });

    it('on reconnect sends nothing to an agent that reports the current hash, and the rule set to one that does not', async () => {
      sa.close();
      await sa.closed;
      sa = await AgentSocket.open(t, a, helloFor(a.agentId, { pus: [SERVER_PU], appliedHash: current.hash, appliedRevision: current.revision }));
      await sa.barrier();
      assert.deepEqual(sa.drain(), [], 'nothing but the pong');
      sa.close();
      sa = await AgentSocket.open(t, a, helloFor(a.agentId, { pus: [SERVER_PU], appliedHash: 'e'.repeat(64), appliedRevision: 1 }));
      const again = await sa.ruleSet();
      assert.equal(again.hash, current.hash);
    });
  });
}

/** Two createApp instances on one Postgres database: LISTEN/NOTIFY carries a write on A to agents on B. */
describe('two control-plane replicas on one Postgres database', () => {
  const server = process.env.TEST_DATABASE_URL;
  let db: Awaited<ReturnType<typeof createTestDatabase>> | null = null;
  const cps: ControlPlane[] = [];
  const dirs: string[] = [];

  before(async () => {
    if (!server) {
      return;
    }
    db = await createTestDatabase(server);
    const kek = randomBytes(32).toString('base64');
    for (let i = 0; i < 2; i++) {
      const dir = await mkdtemp(join(tmpdir(), 'palisade-replica-'));
      dirs.push(dir);
      // Started one after the other: the first creates the CA, the second loads it (same KEK).
      cps.push(await startControlPlane(testConfig(dir, db.url, { PALISADE_KEK: kek }), { logger: new JsonLogger('error', () => undefined) }));
    }
  });
  after(async () => {
    for (const cp of cps) {
      await cp.close();
    }
    await db?.drop();
    for (const d of dirs) {
      await rm(d, { recursive: true, force: true });
    }
  });

  it('an agent connected to replica B receives the rule set for a policy written through replica A', { skip: server ? false : 'TEST_DATABASE_URL is unset: needs a Postgres server' }, async () => {
    const [cpA, cpB] = cps;
    assert.equal(cpA.caFingerprint, cpB.caFingerprint, 'both replicas serve the one CA');
    const appFor = async (cp: ControlPlane): Promise<TestApp> => {
      const ca = await readFile(cp.caFile, 'utf8');
      return {
        cp,
        adminToken: TEST_ADMIN_TOKEN,
        stop: async () => undefined,
        call: (method, path, o = {}) =>
          new Promise((resolve, reject) => {
            const raw = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
            const headers: Record<string, string> = o.token === null ? {} : { authorization: `Bearer ${o.token ?? TEST_ADMIN_TOKEN}` };
            if (raw !== undefined) {
              headers['content-type'] = o.contentType ?? (typeof o.body === 'string' ? 'application/yaml' : 'application/json');
            }
            const req = request(`${cp.url}${path}`, { method, headers, ca }, (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c.toString('utf8')));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: text ? JSON.parse(text) : null }));
            });
            req.on('error', reject);
            req.end(raw);
          }),
      };
    };
    const tA = await appFor(cpA);
    const tB = await appFor(cpB);
    await importSeeds(tA);
    const agent = await enrollAgent(tA, { tags: ['app=server'], hostname: 'on-b' });
    const s = await AgentSocket.open(tB, agent, helloFor(agent.agentId, { pus: [SERVER_PU] }));
    const first = await s.ruleSet();
    await createPolicy(tA, { name: 'written-on-a', subject: [['app=web']], object: [['app=server']] });
    const pushed = await s.ruleSet((r) => r.policies.some((p) => p.name === 'written-on-a'));
    assert.notEqual(pushed.hash, first.hash);
    s.send({ type: 'ack', revision: pushed.revision, hash: pushed.hash });
    await s.barrier();
    // Replica A reads the same rows: the ack taken by B shows through A.
    const v = (await tA.call('GET', `/v1/agents/${agent.agentId}`)).body;
    assert.equal(v.connected, true);
    assert.equal(v.appliedHash, pushed.hash);
    assert.equal(v.inSync, true);
    s.close();
  });
});
