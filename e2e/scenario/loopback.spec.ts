// Issue 5's integration tests on loopback, explicit mode, no root: a real control plane, real agents as separate
// processes, an unmodified echo server and client, and a plain TCP forwarder standing in for the load balancer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoopbackScenario, NAMESPACE } from './loopback';
import { Proc } from './processes';

const DIST = join(__dirname, '..', '..');

async function eventually(what: string, check: () => Promise<boolean>, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      assert.fail(`not within ${withinMs} ms: ${what}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('agents on loopback through a plain TCP forwarder', { concurrency: false }, () => {
  let s: LoopbackScenario;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-loopback-'));
    s = new LoopbackScenario({ dataDir: dir, forwarderOnly: true });
    await s.start();
  });
  after(async () => {
    await s?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('carries the unmodified client’s traffic to the unmodified server and back through the forwarder', async () => {
    assert.equal(s.lbKind, 'forwarder');
    const r = await s.client(['one', 'two']);
    assert.deepEqual([r.ok, r.replies], [true, ['echo:one', 'echo:two']]);
  });

  it('refuses a client whose processing unit no policy allows', async () => {
    const r = await s.otherClient(['let me in']);
    assert.equal(r.ok, false);
    assert.deepEqual(r.replies, []);
  });

  it('refuses a plaintext client straight at the protected port, and through the forwarder', async () => {
    for (const r of [await s.rogueDirect(), await s.rogueViaLb()]) {
      assert.equal(r.ok, false, r.result);
      assert.deepEqual(r.replies, []);
    }
  });

  it('closes the open flow when the policy is deleted, and refuses new ones', async () => {
    const held = new Proc('held-client', [process.execPath, join(DIST, 'e2e/apps/line-client.js'), '--port', String(s.ports.clientSvc), '--line', 'held', '--hold']);
    try {
      await held.waitFor(/^holding/m, 10_000);
      assert.match(held.stdout, /^reply echo:held$/m);
      const id = await s.policyId();
      assert.ok(id);
      assert.equal((await s.request('DELETE', `/v1/networkaccesspolicies/${id}`)).status, 204);
      await eventually('the held flow is closed', async () => /closed-by-peer|reset-by-peer/.test(held.stdout));
      await eventually('new flows are refused', async () => !(await s.client(['after'])).ok);
    } finally {
      await held.stop();
      await s.applySeeds();
    }
    await eventually('re-applying the policy restores access', async () => (await s.client(['back'])).ok);
  });

  it('keeps enforcing with the control plane killed, and a restarted control plane resyncs every agent', async () => {
    await s.stopControlPlane();
    const allowed = await s.client(['cp down']);
    assert.deepEqual([allowed.ok, allowed.replies], [true, ['echo:cp down']]);
    assert.equal((await s.otherClient()).ok, false);
    assert.equal((await s.rogueDirect()).ok, false);
    await s.startControlPlane();
    await s.waitReady();
    const agents = (await s.request('GET', `/v1/agents?namespace=${encodeURIComponent(NAMESPACE)}`)).body as { connected: boolean; inSync: boolean }[];
    assert.equal(agents.length, 3);
    assert.ok(agents.every((a) => a.connected && a.inSync), JSON.stringify(agents));
  });

  it('refuses the client agent once it is revoked', async () => {
    assert.equal((await s.client(['before revocation'])).ok, true);
    const r = await s.request('POST', `/v1/agents/${s.agentIds.client}/revoke`);
    assert.equal(r.status, 200);
    assert.equal(r.body.revoked, true);
    await eventually('the revoked agent is refused', async () => !(await s.client(['after revocation'])).ok);
  });
});
