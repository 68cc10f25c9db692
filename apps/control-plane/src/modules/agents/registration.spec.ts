import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCsr, generateKeyPair, verifyChain } from '@palisade/pki';
import type { DeclaredPu } from '@palisade/protocol';
import { type TestApp, startTestApp } from '../../testing/test-app';
import { backends } from '../../testing/test-backends';
import { AgentSocket, enrollAgent, helloFor, importSeeds, NS } from './agents.testkit';

const HOST: DeclaredPu = { name: 'host', type: 'Host', associatedTags: [], ports: [] };

for (const backend of backends()) {
  describe(`processing units declared in hello (${backend.name})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend);
      await importSeeds(t);
    });
    after(async () => t?.stop());

    it('keeps a unit renamed on a name clash across reconnects, so a second agent with the same unit name still connects', async () => {
      const a = await enrollAgent(t, { hostname: 'a' });
      const b = await enrollAgent(t, { hostname: 'b' });
      const sa = await AgentSocket.open(t, a, helloFor(a.agentId, { pus: [HOST] }));
      await sa.ruleSet();
      for (let round = 0; round < 2; round++) {
        const sb = await AgentSocket.open(t, b, helloFor(b.agentId, { pus: [HOST] }));
        const rs = await sb.ruleSet();
        assert.equal(rs.pus.length, 1);
        assert.equal(rs.pus[0].name, `host@b-${b.agentId.slice(0, 8)}`);
        sb.close();
      }
      const list = await t.call('GET', `/v1/processingunits?namespace=${NS}`);
      assert.deepEqual((list.body as { name: string }[]).map((p) => p.name).sort(), ['host', `host@b-${b.agentId.slice(0, 8)}`]);
      sa.close();
    });

    it("gives every one of several agents declaring the same unit name at the same moment its own unit, and that unit's certificate when all ask at once", async () => {
      const creds = await Promise.all(Array.from({ length: 6 }, (_, i) => enrollAgent(t, { hostname: `burst-${i}` })));
      const sockets = await Promise.all(creds.map((c) => AgentSocket.open(t, c, helloFor(c.agentId, { pus: [{ ...HOST, name: 'burst' }] }))));
      const sets = await Promise.all(sockets.map((x) => x.ruleSet()));
      const names = sets.map((rs) => rs.pus.map((p) => p.name)).flat();
      assert.equal(names.length, 6);
      assert.equal(new Set(names).size, 6, names.join(', '));
      assert.equal(names.filter((n) => n === 'burst').length, 1);
      // All six ask at once for the certificate of the unit they call 'burst' (group-committed together): each gets
      // its own unit's identity — found by the declared name also where the clash rule suffixed it.
      const csrs = await Promise.all(creds.map(async () => createCsr((await generateKeyPair()).privateKeyPem, 'x')));
      sockets.forEach((x, i) => x.send({ type: 'csr', requestId: `b${i}`, subject: 'pu', puName: 'burst', csr: csrs[i] }));
      const certs = await Promise.all(sockets.map((x, i) => x.next('cert', (m) => m.requestId === `b${i}`)));
      for (const [i, c] of certs.entries()) {
        assert.equal(c.puId, sets[i].pus[0].id);
        const v = await verifyChain({ chainPem: c.certificate, trustBundle: c.trustBundle });
        assert.deepEqual({ kind: v.identity.kind, id: v.identity.id }, { kind: 'pu', id: sets[i].pus[0].id });
        assert.ok(v.tags.includes(`$hostname=burst-${i}`), v.tags.join(' '));
      }
      const recorded = (await t.cp.dataSource.query(`SELECT pu_id FROM issued_certificates WHERE kind = 'pu' AND pu_id = ANY($1::uuid[])`, [certs.map((c) => c.puId)])) as unknown[];
      assert.equal(recorded.length, 6, 'every serial recorded');
      sockets.forEach((x) => x.close());
    });
  });
}
