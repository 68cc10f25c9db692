// The nine behaviours of the seed scenario on the network-namespace lab (issue 6), each named after what it proves
// and asserting on what it sees. Runs as root on Linux: `npm run test:e2e`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkTls13Only, findMarker, labUnsupportedReason, LB_PORT, SERVER_PORT } from './lab';
import { foreignClientCertificate } from './scenario/foreign-ca';
import { LabScenario, NAMESPACE, within } from './scenario/lab-scenario';

const skip = labUnsupportedReason();

describe('the seed scenario across a real TCP load balancer', { skip: skip ?? false, concurrency: false }, () => {
  let s: LabScenario;
  let policyDoc: string;

  before(async () => {
    s = await LabScenario.create('pale2e');
    policyDoc = readFileSync(join(__dirname, '..', '..', 'examples', 'seed-policy.yaml'), 'utf8');
  });

  after(async () => {
    await s?.destroy();
  });

  const policyId = async (): Promise<string | null> => {
    const r = await s.api('GET', `/v1/networkaccesspolicies?namespace=${NAMESPACE}`);
    const p = (r.body as { id: string; name: string }[]).find((x) => x.name === 'client-to-mylbtest3');
    return p?.id ?? null;
  };

  it('client-requests-reach-the-server-and-replies-come-back-with-no-application-change', async () => {
    const r = await s.client({ lines: ['one', 'two', 'three'] });
    assert.equal(r.outcome, 'ok', r.stdout + r.stderr);
    assert.deepEqual(r.replies, ['echo:one', 'echo:two', 'echo:three']);
  });

  it('a-capture-at-the-load-balancer-holds-only-tls-1.3-and-never-the-marker', async () => {
    const marker = `PALISADE-MARKER-${Date.now()}`;
    const cap = await s.lab.capture('lb', { filter: `tcp port ${LB_PORT} or tcp port ${SERVER_PORT}` });
    const r = await s.client({ lines: [marker, `${marker}-again`] });
    const file = await cap.stop();
    assert.equal(r.outcome, 'ok', r.stdout + r.stderr);
    assert.deepEqual(r.replies, [`echo:${marker}`, `echo:${marker}-again`]);
    const tls = await checkTls13Only(file, [LB_PORT, SERVER_PORT]);
    assert.equal(tls.ok, true, JSON.stringify(tls.violations?.slice(0, 5)));
    assert.ok(tls.segments > 0 && tls.streams.length >= 2, 'the capture saw both legs of the flow (client→lb, lb→server)');
    assert.ok(tls.streams.every((x) => x.negotiated === 0x0304), JSON.stringify(tls.streams));
    const hits = await findMarker(file, marker);
    assert.equal(hits.found, false, 'the marker the client sent must never cross the load balancer in clear');
    assert.equal(hits.inFile, false, 'not even as raw bytes anywhere in the capture');
  });

  it('the-rogue-host-is-refused-through-the-load-balancer-and-directly-at-the-server', async () => {
    const viaLb = await s.rogue(s.lab.address('lb'), LB_PORT);
    assert.notEqual(viaLb.outcome, 'ok', viaLb.stdout);
    assert.deepEqual(viaLb.replies, []);
    const direct = await s.rogue(s.lab.address('server'), SERVER_PORT);
    assert.notEqual(direct.outcome, 'ok', direct.stdout);
    assert.deepEqual(direct.replies, []);
  });

  it('a-client-whose-certificate-comes-from-a-different-ca-is-refused', async () => {
    const { cert, key } = foreignClientCertificate(s.dir);
    for (const [host, port] of [[s.lab.address('lb'), LB_PORT], [s.lab.address('server'), SERVER_PORT]] as const) {
      const r = await s.run('rogue', [process.execPath, join(__dirname, 'scenario', 'foreign-client.js'), host, String(port), cert, key]);
      assert.match(r.stdout, /^result refused/m, `${host}:${port} ${r.stdout}`);
    }
  });

  it('a-client-process-the-policy-does-not-cover-is-refused-while-the-covered-one-is-allowed', async () => {
    const uncovered = await s.client({ uid: 0, lines: ['not me'] });
    assert.notEqual(uncovered.outcome, 'ok', uncovered.stdout);
    assert.deepEqual(uncovered.replies, []);
    const covered = await s.client({ lines: ['me'] });
    assert.equal(covered.outcome, 'ok', covered.stdout);
    assert.deepEqual(covered.replies, ['echo:me']);
  });

  it('deleting-the-policy-refuses-new-connections-within-2s-and-closes-the-open-one-and-reapplying-restores-access', async () => {
    const held = s.holdClient(['before']);
    await held.waitForOutput(/^holding/m, { timeoutMs: 5000 });
    assert.match(held.stdout, /^reply echo:before$/m);
    const id = await policyId();
    assert.ok(id, 'the seed policy exists');
    const del = await s.api('DELETE', `/v1/networkaccesspolicies/${id}`);
    assert.equal(del.status, 204, JSON.stringify(del.body));
    const closed = await within(2000, async () => /closed-by-peer|reset-by-peer/.test(held.stdout));
    assert.ok(closed, `the open flow was not closed within 2 s: ${held.stdout}`);
    const refused = await within(2000, async () => (await s.client({ lines: ['after'] })).outcome !== 'ok');
    assert.ok(refused, 'new connections are refused within 2 s');
    const re = await s.api('POST', `/v1/import?namespace=${NAMESPACE}`, policyDoc);
    assert.equal(re.status, 200, JSON.stringify(re.body));
    const restored = await within(2000, async () => (await s.client({ lines: ['back'] })).outcome === 'ok');
    assert.ok(restored, 'access is restored within 2 s of re-applying the policy');
  });

  it('flow-reports-show-accepted-and-refused-flows-with-the-deciding-policy-and-the-refusal-reason', async () => {
    const ok = await within(8000, async () => {
      const r = await s.api('GET', `/v1/flowreports?namespace=${NAMESPACE}`);
      const rows = r.body as { action: string; policyName: string | null; reason: string; direction: string }[];
      return rows.some((f) => f.action === 'Allow' && f.policyName === 'client-to-mylbtest3' && f.direction === 'incoming') &&
        rows.some((f) => f.action === 'Reject' && f.direction === 'incoming' && f.reason.length > 0) &&
        rows.some((f) => f.action === 'Reject' && f.direction === 'outgoing' && f.reason === 'default');
    });
    const r = await s.api('GET', `/v1/flowreports?namespace=${NAMESPACE}`);
    assert.ok(ok, JSON.stringify(r.body).slice(0, 3000));
    const refusedIn = (r.body as { action: string; direction: string; reason: string }[]).filter((f) => f.action === 'Reject' && f.direction === 'incoming').map((f) => f.reason);
    assert.ok(refusedIn.some((x) => /tls_handshake_failed|no_client_certificate|certificate_untrusted/.test(x)), refusedIn.join(','));
  });

  it('stopping-the-control-plane-leaves-traffic-flowing-for-the-allowed-client-and-refused-for-the-rogue', async () => {
    await s.stopControlPlane();
    const r = await s.client({ lines: ['cp is down'] });
    assert.equal(r.outcome, 'ok', r.stdout);
    assert.deepEqual(r.replies, ['echo:cp is down']);
    const rogue = await s.rogue(s.lab.address('lb'), LB_PORT);
    assert.notEqual(rogue.outcome, 'ok');
    const rogueDirect = await s.rogue(s.lab.address('server'), SERVER_PORT);
    assert.notEqual(rogueDirect.outcome, 'ok');
    await s.startControlPlane();
    await s.waitForAgentsReady();
  });

  it('revoking-the-client-agent-refuses-it-within-2s', async () => {
    assert.equal((await s.client({ lines: ['still ok'] })).outcome, 'ok');
    const rv = await s.api('POST', `/v1/agents/${s.agentIds.client}/revoke`);
    assert.equal(rv.status, 200, JSON.stringify(rv.body));
    assert.equal(rv.body.revoked, true);
    const refused = await within(2000, async () => (await s.client({ lines: ['revoked?'] })).outcome !== 'ok');
    assert.ok(refused, 'the revoked agent is refused within 2 s');
  });
});
