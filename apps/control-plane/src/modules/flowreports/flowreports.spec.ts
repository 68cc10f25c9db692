import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FlowRecord } from '@palisade/protocol';
import { type TestApp, startTestApp } from '../../testing/test-app';
import { backends } from '../../testing/test-backends';
import { AgentSocket, enrollAgent, importSeeds, NS } from '../agents/agents.testkit';

const record = (o: Partial<FlowRecord> = {}): FlowRecord => ({
  sourceId: null,
  sourceName: 'rogue',
  sourceNamespace: null,
  destinationId: 'pu-server',
  destinationName: 'tcp:8106',
  destinationNamespace: NS,
  serviceId: null,
  port: 'tcp/8106',
  direction: 'incoming',
  action: 'Reject',
  policyId: null,
  policyName: null,
  reason: 'default',
  count: 3,
  bytesIn: 0,
  bytesOut: 0,
  durationMs: 12,
  firstSeen: '2026-12-03T10:00:00.000Z',
  lastSeen: '2026-12-03T10:00:02.000Z',
  ...o,
});

for (const backend of backends()) {
  describe(`flow reports (${backend.name})`, () => {
    let t: TestApp;
    let agentId: string;
    let elsewhere: string;
    let viewer: string;

    before(async () => {
      t = await startTestApp(backend);
      await importSeeds(t);
      assert.equal((await t.call('POST', '/v1/namespaces', { body: { name: '/elsewhere' } })).status, 201);
      elsewhere = (await t.call('POST', '/v1/apitokens', { body: { name: 'else', role: 'viewer', namespace: '/elsewhere' } })).body.token;
      viewer = (await t.call('POST', '/v1/apitokens', { body: { name: 'ns-viewer', role: 'viewer', namespace: NS } })).body.token;
      const a = await enrollAgent(t);
      agentId = a.agentId;
      const s = await AgentSocket.open(t, a);
      await s.ruleSet();
      const policyId = ((await t.call('GET', `/v1/networkaccesspolicies?namespace=${NS}`)).body as { id: string; name: string }[])[0].id;
      s.send({
        type: 'flows',
        records: [
          record(),
          record({ sourceName: 'client-app', action: 'Allow', reason: 'policy', policyId, policyName: 'client-to-mylbtest3', bytesIn: 100, bytesOut: 2000, count: 1 }),
        ],
      });
      await s.barrier();
      s.close();
    });
    after(async () => t?.stop());

    it('stores a flows message and returns it by namespace and verdict, with policy and reason', async () => {
      const r = await t.call('GET', `/v1/flowreports?namespace=${NS}&action=Reject`, { token: viewer });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.length, 1);
      const { id, ...rest } = r.body[0];
      assert.match(id, /^\d+$/);
      assert.deepEqual(rest, { ...record(), agentId, namespace: NS, observed: false });
      const allow = await t.call('GET', `/v1/flowreports?namespace=${NS}&action=Allow`);
      assert.equal(allow.body.length, 1);
      assert.equal(allow.body[0].policyName, 'client-to-mylbtest3');
      assert.equal(allow.body[0].reason, 'policy');
      assert.equal(allow.body[0].bytesOut, 2000);
      assert.equal((await t.call('GET', `/v1/flowreports?namespace=${NS}&pu=client-app`)).body.length, 1);
      assert.equal((await t.call('GET', `/v1/flowreports?namespace=${NS}&from=2026-12-03T11:00:00Z`)).body.length, 0);
      assert.equal((await t.call('GET', `/v1/flowreports?namespace=${NS}&to=2026-12-03T10:30:00Z`)).body.length, 2);
      assert.equal((await t.call('GET', '/v1/flowreports?namespace=/aporeto&recursive=true')).body.length, 2);
      assert.equal((await t.call('GET', '/v1/flowreports?namespace=/aporeto')).body.length, 0, 'not recursive by default');
    });

    it('keeps the observed flag of an observation-mode verdict', async () => {
      const a = await enrollAgent(t);
      const s = await AgentSocket.open(t, a);
      await s.ruleSet();
      s.send({ type: 'flows', records: [record({ sourceName: 'audited', observed: true })] });
      await s.barrier();
      s.close();
      const r = await t.call('GET', `/v1/flowreports?namespace=${NS}&pu=audited`);
      assert.equal(r.body.length, 1);
      assert.equal(r.body[0].observed, true, 'an audit-only reject must not read as an enforced one');
    });

    it('shows a caller scoped to another namespace nothing', async () => {
      for (const q of [`?namespace=${NS}`, `?namespace=${NS}&action=Reject`, '?namespace=/&recursive=true', '?recursive=true', '']) {
        const r = await t.call('GET', `/v1/flowreports${q}`, { token: elsewhere });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body, [], q);
      }
    });

    it('answers a bad query with 400 validation_failed naming the field', async () => {
      for (const [q, field] of [
        ['action=Maybe', 'action'],
        ['from=yesterday', 'from'],
        ['limit=0', 'limit'],
        ['limit=abc', 'limit'],
        ['namespace=relative', 'namespace'],
        ['recursive=perhaps', 'recursive'],
        ['bogus=1', 'bogus'],
      ]) {
        const r = await t.call('GET', `/v1/flowreports?${q}`);
        assert.equal(r.status, 400, `${q}: ${r.text}`);
        assert.equal(r.body.code, 'validation_failed');
        assert.ok((r.body.details as { field: string }[]).some((d) => d.field === field), `${q}: ${JSON.stringify(r.body.details)}`);
      }
      assert.equal((await t.call('GET', '/v1/flowreports', { token: null })).status, 401);
    });
  });
}
