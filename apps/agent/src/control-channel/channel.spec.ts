import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AgentMessage, type ServerMessage } from '@palisade/protocol';
import { StateStore } from '../certs/state-store';
import { enroll } from '../enroll/enroll';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../enroll/control-plane.testkit';
import { ControlChannel } from './channel';

describe(ControlChannel.name, () => {
  let cp: ControlPlaneProcess;
  let dir: string;
  let sut: ControlChannel;
  let agentId: string;
  let applied: string | null = null;
  const hellos: AgentMessage[] = [];

  const nextMessage = <T extends ServerMessage['type']>(type: T) =>
    new Promise<Extract<ServerMessage, { type: T }>>((resolve) => {
      const on = (m: ServerMessage) => {
        if (m.type === type) {
          sut.off('message', on);
          resolve(m as Extract<ServerMessage, { type: T }>);
        }
      };
      sut.on('message', on);
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-channel-'));
    cp = await startControlPlaneProcess();
    for (const name of ['/acme', '/acme/web']) {
      assert.equal((await cp.call('POST', '/v1/namespaces', { name })).status, 201);
    }
    const token = (await cp.call('POST', '/v1/enrollmenttokens', { namespace: '/acme/web', tags: ['app=server'] })).body.token;
    agentId = (await enroll({ token, stateDir: dir })).agentId;
    const store = new StateStore(dir);
    const cred = await store.agentCredential();
    const bundle = await store.bundle();
    sut = new ControlChannel({
      url: cp.url,
      credentials: () => ({ ...cred, bundle }),
      hello: () => {
        const h: AgentMessage = { type: 'hello', protocol: 1, agentId, appliedRevision: null, appliedHash: applied, version: 't', capabilities: [], hostname: 'h', pus: [{ name: 'tcp:8106', type: 'HostService', associatedTags: ['app=server'], ports: ['tcp/8106'] }] };
        hellos.push(h);
        return h;
      },
    });
  });
  after(async () => {
    sut?.stop();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to send while not connected', () => {
    assert.equal(sut.send({ type: 'ping', ts: 1 }), false);
    assert.equal(sut.connected, false);
  });

  it('connects with the agent certificate, says hello and receives its rule set', async () => {
    const connected = new Promise((r) => sut.once('connected', r));
    const rs = nextMessage('ruleset');
    sut.start();
    await connected;
    assert.equal(sut.connected, true);
    const m = await rs;
    const ruleSet = m.ruleSet as { agentId: string; hash: string; revision: number };
    assert.equal(ruleSet.agentId, agentId);
    assert.equal(sut.send({ type: 'ack', revision: ruleSet.revision, hash: ruleSet.hash }), true);
    applied = ruleSet.hash;
  });

  it('a policy change arrives as a new rule set', async () => {
    const rs = nextMessage('ruleset');
    const r = await cp.call('POST', '/v1/networkaccesspolicies', { name: 'in', namespace: '/acme/web', subject: [['app=client']], object: [['app=server']], action: 'Allow' });
    assert.equal(r.status, 201);
    const ruleSet = (await rs).ruleSet as { hash: string; policies: { name: string }[] };
    assert.notEqual(ruleSet.hash, applied);
    assert.ok(ruleSet.policies.some((p) => p.name === 'in'));
    applied = ruleSet.hash;
  });

  it('reconnects after the connection drops and says hello with the hash it applied', async () => {
    const down = new Promise((r) => sut.once('disconnected', r));
    const up = new Promise((r) => sut.once('connected', r));
    sut.reconnectNow();
    await down;
    await up;
    assert.equal(hellos.length, 2);
    assert.equal((hellos[1] as { appliedHash: string | null }).appliedHash, applied);
    const agent = (await cp.call('GET', `/v1/agents/${agentId}`)).body;
    assert.equal(agent.connected, true);
  });

  it('is closed by the control plane when its agent is revoked', async () => {
    const down = new Promise((r) => sut.once('disconnected', r));
    assert.equal((await cp.call('POST', `/v1/agents/${agentId}/revoke`)).status, 200);
    await down;
    assert.equal(sut.connected, false);
    sut.stop();
  });
});
