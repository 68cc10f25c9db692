import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compile, decide, explain, type Decision, type Direction, type PolicyState, type RuleSet } from './index';
import { policy, pu, service, state } from './testing';

const NOW = new Date('2030-01-01T00:00:00Z');

/** Decision at one end through the compiled rule set, checked against the reference evaluator. */
function at(st: PolicyState, puId: string, dir: Direction, peer: readonly string[], port = 'tcp/8106', now = NOW): Decision {
  const owner = st.processingUnits.find((p) => p.id === puId)?.agentId;
  const rs = compile(st).find((r) => r.agentId === owner) as RuleSet;
  const d = decide(rs, puId, dir, peer, port, now);
  const { explanation: _x, ...e } = explain(rs, puId, dir, peer, port, now);
  assert.deepEqual({ ...d }, e, 'decide and explain disagree');
  return d;
}

const server = pu({ id: 'srv', associatedTags: ['app=server'], ports: ['tcp/8106'] });
const client = pu({ id: 'cli', type: 'LinuxProcess', associatedTags: ['app=client'] });
const C = ['$namespace=/t', 'app=client'];
const allow = policy({ id: 'allow', subject: [['app=client']], object: [['app=server']] });
const reject = policy({ id: 'reject', subject: [['app=client']], object: [['app=server']], action: 'Reject' });

describe('policy rules', () => {
  it('rule 3: a policy applies in its namespace and, with propagate, below it — never to siblings or parents', () => {
    const pus = [
      pu({ id: 'child', namespace: '/t/a', associatedTags: ['app=server'] }),
      pu({ id: 'sib', namespace: '/u', associatedTags: ['app=server'] }),
      pu({ id: 'parent', namespace: '/', associatedTags: ['app=server'] }),
      pu({ id: 'own', namespace: '/t', associatedTags: ['app=server'] }),
    ];
    const noProp = state({ processingUnits: pus, policies: [allow] });
    const prop = state({ processingUnits: pus, policies: [{ ...allow, propagate: true }] });
    const verdicts = (st: PolicyState) => pus.map((p) => at(st, p.id, 'incoming', C).action);
    assert.deepEqual(verdicts(noProp), ['Reject', 'Reject', 'Reject', 'Allow']);
    assert.deepEqual(verdicts(prop), ['Allow', 'Reject', 'Reject', 'Allow']);
  });
  it('rule 3: the outgoing end uses the subject PU namespace', () => {
    const st = state({ processingUnits: [pu({ ...client, namespace: '/other' })], policies: [allow] });
    assert.equal(at(st, 'cli', 'outgoing', ['app=server']).reason, 'default');
    const st2 = state({ processingUnits: [client], policies: [allow] });
    assert.equal(at(st2, 'cli', 'outgoing', ['app=server']).action, 'Allow');
  });
  it('rule 4: a matching Reject wins over any matching Allow, whatever the write order', () => {
    for (const policies of [[allow, reject], [reject, allow]]) {
      const d = at(state({ processingUnits: [server], policies }), 'srv', 'incoming', C);
      assert.deepEqual([d.action, d.policyId, d.reason], ['Reject', 'reject', 'policy']);
    }
  });
  it('rule 4: between equal verdicts the reported policy is the first by name, then id', () => {
    const a2 = { ...allow, id: 'z-allow', name: 'a-first' };
    const d = at(state({ processingUnits: [server], policies: [allow, a2] }), 'srv', 'incoming', C);
    assert.equal(d.policyName, 'a-first');
  });
  it('rule 5: fallback policies decide only when no normal policy matched', () => {
    const fbReject = { ...reject, id: 'fb', fallback: true };
    const d1 = at(state({ processingUnits: [server], policies: [allow, fbReject] }), 'srv', 'incoming', C);
    assert.deepEqual([d1.action, d1.policyId], ['Allow', 'allow']);
    const fbAllow = { ...allow, id: 'fb', fallback: true };
    const d2 = at(state({ processingUnits: [server], policies: [fbAllow] }), 'srv', 'incoming', C);
    assert.deepEqual([d2.action, d2.reason], ['Allow', 'fallback']);
    const d3 = at(state({ processingUnits: [server], policies: [fbAllow, { ...fbReject, id: 'fb2' }] }), 'srv', 'incoming', C);
    assert.deepEqual([d3.action, d3.policyId], ['Reject', 'fb2']);
  });
  it('rule 6: ports restrict a policy; an empty list is any port; $port is a tag of the object', () => {
    const onPort = { ...allow, ports: ['tcp/8000:8200'] };
    const st = state({ processingUnits: [server], policies: [onPort] });
    assert.equal(at(st, 'srv', 'incoming', C, 'tcp/8106').action, 'Allow');
    assert.equal(at(st, 'srv', 'incoming', C, 'tcp/9999').action, 'Reject');
    const byTag = policy({ id: 'pt', subject: [['app=client']], object: [['$port=tcp/8106']] });
    const st2 = state({ processingUnits: [server, client], policies: [byTag] });
    assert.equal(at(st2, 'srv', 'incoming', C, 'tcp/8106').action, 'Allow');
    assert.equal(at(st2, 'srv', 'incoming', C, 'tcp/8107').action, 'Reject');
    assert.equal(at(st2, 'cli', 'outgoing', ['app=server'], 'tcp/8106').action, 'Allow');
    assert.equal(at(st2, 'cli', 'outgoing', ['app=server', '$port=tcp/8106'], 'tcp/1').action, 'Reject');
    assert.equal(at(st2, 'srv', 'incoming', C, 'garbage').reason, 'bad-port');
  });
  it('rule 7: a service associatedTags are object tags only on the service port for PUs it selects', () => {
    const svc = service({ id: 's', selectors: [['app=server']], associatedTags: ['service=web'] });
    const p = policy({ id: 'p', subject: [['app=client']], object: [['service=web']] });
    const st = state({ processingUnits: [server, pu({ id: 'other', associatedTags: ['app=other'] })], services: [svc], policies: [p] });
    assert.equal(at(st, 'srv', 'incoming', C, 'tcp/8106').action, 'Allow');
    assert.equal(at(st, 'srv', 'incoming', C, 'tcp/8107').action, 'Reject');
    assert.equal(at(st, 'other', 'incoming', C, 'tcp/8106').action, 'Reject');
  });
  it('rule 8: applyPolicyMode picks the end that applies a policy', () => {
    const modes = ['Bidirectional', 'IncomingTraffic', 'OutgoingTraffic'] as const;
    const got = modes.map((m) => {
      const st = state({ processingUnits: [server, client], policies: [{ ...allow, applyPolicyMode: m }] });
      return [at(st, 'srv', 'incoming', C).action, at(st, 'cli', 'outgoing', ['app=server']).action];
    });
    assert.deepEqual(got, [['Allow', 'Allow'], ['Allow', 'Reject'], ['Reject', 'Allow']]);
  });
  it('rule 9: each end decides on its own; a Reject at either end refuses the flow', () => {
    const inOnlyReject = { ...reject, applyPolicyMode: 'IncomingTraffic' as const };
    const st = state({ processingUnits: [server, client], policies: [allow, inOnlyReject] });
    assert.equal(at(st, 'cli', 'outgoing', ['app=server']).action, 'Allow');
    assert.equal(at(st, 'srv', 'incoming', C).action, 'Reject');
  });
  it('rule 10: with nothing matching, the namespace default decides (Reject unless set, not inherited)', () => {
    assert.equal(at(state({ processingUnits: [server] }), 'srv', 'incoming', C).action, 'Reject');
    const st = state({ namespaces: [{ name: '/t', defaultAction: 'Allow' }], processingUnits: [server, pu({ id: 'kid', namespace: '/t/k' })] });
    assert.deepEqual([at(st, 'srv', 'incoming', C).action, at(st, 'srv', 'incoming', C).reason], ['Allow', 'default']);
    assert.equal(at(st, 'kid', 'incoming', C).action, 'Reject');
  });
  it('rule 11: a disabled policy is ignored entirely', () => {
    const st = state({ processingUnits: [server], policies: [allow, { ...reject, disabled: true }] });
    assert.equal(at(st, 'srv', 'incoming', C).action, 'Allow');
    assert.equal(compile(st)[0].policies.length, 1);
  });
  it('rule 12: from its expirationTime on, a policy no longer applies', () => {
    const exp = { ...reject, expirationTime: '2030-01-01T00:00:00Z' };
    const st = state({ processingUnits: [server], policies: [allow, exp] });
    assert.equal(at(st, 'srv', 'incoming', C, 'tcp/8106', new Date('2029-12-31T23:59:59Z')).action, 'Reject');
    assert.equal(at(st, 'srv', 'incoming', C, 'tcp/8106', NOW).action, 'Allow');
  });
  it('rule 13: an observation policy is recorded in observed[] and does not decide', () => {
    const obs = { ...reject, id: 'obs', name: 'obs', observationEnabled: true };
    const d = at(state({ processingUnits: [server], policies: [allow, obs] }), 'srv', 'incoming', C);
    assert.equal(d.action, 'Allow');
    assert.deepEqual(d.observed, [{ policyId: 'obs', policyName: 'obs', action: 'Reject' }]);
    const d2 = at(state({ processingUnits: [server], policies: [{ ...allow, observationEnabled: true }] }), 'srv', 'incoming', C);
    assert.deepEqual([d2.action, d2.reason, d2.observed.length], ['Reject', 'default', 1]);
  });
  it('rule 9: decide never throws: an unknown PU is a Reject', () => {
    const rs = compile(state({ processingUnits: [server] }))[0];
    assert.equal(decide(rs, 'nope', 'incoming', C, 'tcp/8106', NOW).reason, 'unknown-pu');
  });
});
