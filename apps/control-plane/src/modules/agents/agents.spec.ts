import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, startTestApp } from '../../testing/test-app';
import { backends } from '../../testing/test-backends';
import { type AgentCredential, AgentSocket, enrollAgent, helloFor, HOST_SERVICE, importSeeds, NS } from './agents.testkit';

for (const backend of backends()) {
  describe(`GET /v1/agents and revocation (${backend.name})`, () => {
    let t: TestApp;
    let a: AgentCredential;
    let s: AgentSocket;
    let elsewhere: string;
    let elsewhereEditor: string;
    let viewer: string;

    before(async () => {
      t = await startTestApp(backend);
      await importSeeds(t);
      assert.equal((await t.call('POST', '/v1/namespaces', { body: { name: '/elsewhere' } })).status, 201);
      elsewhere = (await t.call('POST', '/v1/apitokens', { body: { name: 'else-v', role: 'viewer', namespace: '/elsewhere' } })).body.token;
      elsewhereEditor = (await t.call('POST', '/v1/apitokens', { body: { name: 'else-e', role: 'editor', namespace: '/elsewhere' } })).body.token;
      viewer = (await t.call('POST', '/v1/apitokens', { body: { name: 'ns-v', role: 'viewer', namespace: NS } })).body.token;
      a = await enrollAgent(t, { hostname: 'web-1' });
    });
    after(async () => {
      s?.close();
      await t?.stop();
    });

    it('shows an enrolled, never-connected agent', async () => {
      const r = await t.call('GET', `/v1/agents?namespace=${NS}`, { token: viewer });
      assert.equal(r.status, 200);
      assert.equal(r.body.length, 1);
      const v = r.body[0];
      assert.deepEqual(
        { ...v, createTime: undefined },
        {
          id: a.agentId,
          name: 'web-1',
          namespace: NS,
          hostname: 'web-1',
          connected: false,
          lastSeen: null,
          desiredRevision: null,
          appliedRevision: null,
          desiredHash: null,
          appliedHash: null,
          inSync: false,
          lastNack: null,
          version: null,
          capabilities: [],
          revoked: false,
          revokedAt: null,
          createTime: undefined,
        },
      );
      assert.ok(Date.parse(v.createTime) > 0);
    });

    it('shows connected, lastSeen, desired/applied revision, version and capabilities of a connected agent', async () => {
      s = await AgentSocket.open(t, a, helloFor(a.agentId, { pus: [HOST_SERVICE] }));
      const rs = await s.ruleSet();
      s.send({ type: 'ack', revision: rs.revision, hash: rs.hash });
      await s.barrier();
      const v = (await t.call('GET', `/v1/agents/${a.agentId}`, { token: viewer })).body;
      assert.equal(v.connected, true);
      assert.ok(Date.now() - Date.parse(v.lastSeen) < 60_000);
      assert.equal(v.desiredRevision, rs.revision);
      assert.equal(v.appliedRevision, rs.revision);
      assert.equal(v.desiredHash, rs.hash);
      assert.equal(v.inSync, true);
      assert.equal(v.version, '9.9.9-test');
      assert.deepEqual(v.capabilities, ['explicit', 'flows']);
      // The unit it declared is an API object of its namespace, bound to it.
      const pus = (await t.call('GET', `/v1/processingunits?namespace=${NS}`)).body as { name: string; agentId: string }[];
      assert.deepEqual(pus.filter((p) => p.agentId === a.agentId).map((p) => p.name), ['tcp:8106']);
    });

    it('shows connected false once the socket is gone', async () => {
      s.close();
      await s.closed;
      // The close is handled asynchronously on the server; its write lands before the next request's read.
      let v = (await t.call('GET', `/v1/agents/${a.agentId}`)).body;
      for (let i = 0; i < 50 && v.connected; i++) {
        await new Promise((r) => setTimeout(r, 20));
        v = (await t.call('GET', `/v1/agents/${a.agentId}`)).body;
      }
      assert.equal(v.connected, false);
      assert.notEqual(v.lastSeen, null);
    });

    it('hides the agent from a caller scoped elsewhere: list empty, get and revoke 404', async () => {
      assert.deepEqual((await t.call('GET', '/v1/agents', { token: elsewhere })).body, []);
      assert.deepEqual((await t.call('GET', `/v1/agents?namespace=${NS}`, { token: elsewhere })).body, []);
      assert.deepEqual((await t.call('GET', '/v1/agents?namespace=/', { token: elsewhere })).body, []);
      const get = await t.call('GET', `/v1/agents/${a.agentId}`, { token: elsewhere });
      assert.equal(get.status, 404);
      assert.deepEqual({ code: get.body.code, message: get.body.message }, { code: 'agent_not_found', message: `agent ${a.agentId} not found` });
      const rev = await t.call('POST', `/v1/agents/${a.agentId}/revoke`, { token: elsewhereEditor });
      assert.equal(rev.status, 404);
      assert.equal(rev.body.code, 'agent_not_found');
      const pu = ((await t.call('GET', `/v1/processingunits?namespace=${NS}`)).body as { id: string; agentId: string }[]).find((p) => p.agentId === a.agentId);
      assert.ok(pu);
      const revPu = await t.call('POST', `/v1/processingunits/${pu.id}/revoke`, { token: elsewhereEditor });
      assert.equal(revPu.status, 404);
      assert.equal(revPu.body.code, 'processingunit_not_found');
      assert.equal((await t.call('GET', `/v1/agents/${a.agentId}`)).body.revoked, false, 'nothing changed');
    });

    it('refuses revocation to a viewer (403), to no token (401) and for a malformed id (400)', async () => {
      assert.equal((await t.call('POST', `/v1/agents/${a.agentId}/revoke`, { token: viewer })).status, 403);
      assert.equal((await t.call('POST', `/v1/agents/${a.agentId}/revoke`, { token: null })).status, 401);
      assert.equal((await t.call('GET', '/v1/agents', { token: null })).status, 401);
      assert.equal((await t.call('GET', '/v1/agents/not-a-uuid')).status, 400);
      assert.equal((await t.call('GET', '/v1/agents/00000000-0000-4000-8000-000000000000')).status, 404);
      assert.equal((await t.call('GET', '/v1/agents/' + a.agentId)).body.revoked, false);
    });

    it('revokes an agent for an editor of its namespace', async () => {
      const editor = (await t.call('POST', '/v1/apitokens', { body: { name: 'ns-e', role: 'editor', namespace: NS } })).body.token;
      const r = await t.call('POST', `/v1/agents/${a.agentId}/revoke`, { token: editor });
      assert.equal(r.status, 200);
      assert.equal(r.body.revoked, true);
      assert.ok(Date.parse(r.body.revokedAt) > 0);
      assert.equal((await t.call('GET', `/v1/agents/${a.agentId}`)).body.connected, false);
    });
  });
}
