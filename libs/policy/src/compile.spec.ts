import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  PolicyError, affectedAgents, canonicalJson, compile, compileFor, contentHash, hashedContent,
} from './index';
import { policy, pu, service, state } from './testing';

const agents = ['a1', 'a2', 'a3'].map((id) => ({ id, name: id, namespace: '/t' }));
const st = state({
  agents,
  processingUnits: [
    pu({ id: 'srv', associatedTags: ['app=server'], ports: ['tcp/8106'], agentId: 'a1' }),
    pu({ id: 'cli', type: 'LinuxProcess', associatedTags: ['app=client'], agentId: 'a2' }),
  ],
  services: [service({ id: 'web', selectors: [['app=server']], associatedTags: ['service=web'] })],
  policies: [
    policy({ id: 'p1', subject: [['app=client']], object: [['service=web']] }),
    policy({ id: 'p2', subject: [['app=nobody']], object: [['app=nothing']] }),
  ],
  trustBundle: ['PEM-B', 'PEM-A'],
  denyList: ['0AFF'],
});

describe('compile', () => {
  it('gives one rule set per agent holding only what that agent needs', () => {
    const [a1, a2, a3] = compile(st);
    assert.deepEqual([a1.agentId, a2.agentId, a3.agentId], ['a1', 'a2', 'a3']);
    assert.deepEqual(a1.pus.map((p) => p.id), ['srv']);
    assert.deepEqual(a1.policies.map((p) => p.id), ['p1']); // as object, through the service's tags
    assert.deepEqual(a2.policies.map((p) => p.id), ['p1']); // as subject
    assert.deepEqual(a2.services.map((s) => s.id), ['web']); // a service its client may dial
    assert.deepEqual([a3.pus, a3.policies], [[], []]);
    assert.deepEqual(a3.services.map((s) => s.id), ['web']); // every service in scope is intercepted (README, The compiler)
    assert.deepEqual(a1.defaults, { '/t': 'Reject' });
    assert.deepEqual(a3.trustBundle, ['PEM-A', 'PEM-B']);
    assert.deepEqual(a3.denyList, ['0aff']);
  });
  it('hashes the canonical JSON of the content, revision excluded', () => {
    const rs = compile(st)[0];
    assert.equal(rs.hash, contentHash(hashedContent(rs)));
    assert.equal(compile({ ...st, revision: 99 })[0].hash, rs.hash);
    assert.notEqual(compile({ ...st, denyList: ['01'] })[0].hash, rs.hash);
  });
  it('compileFor equals the agent element of compile, and refuses an unknown agent', () => {
    assert.deepEqual(compileFor(st, 'a2'), compile(st)[1]);
    assert.throws(() => compileFor(st, 'zz'), (e: unknown) => e instanceof PolicyError && e.code === 'unknown_agent');
  });
  it('refuses invalid stored data with a path naming the policy', () => {
    const bad = { ...st, policies: [policy({ id: 'x', subject: [[]], object: [['a=b']] })] };
    assert.throws(() => compile(bad), (e: unknown) => e instanceof PolicyError && e.path === 'policies[x].subject[0]');
  });
});

describe('affectedAgents', () => {
  it('a policy edit touches only the agents of the PUs it can match', () => {
    const p = policy({ id: 'p3', subject: [['app=client']], object: [['app=elsewhere']] });
    assert.deepEqual(affectedAgents(st, { kind: 'networkaccesspolicy', before: null, after: p }), ['a2']);
    assert.deepEqual(affectedAgents(st, { kind: 'networkaccesspolicy', before: st.policies[0], after: null }), ['a1', 'a2']);
    assert.deepEqual(affectedAgents(st, { kind: 'networkaccesspolicy', before: null, after: st.policies[1] }), []);
  });
  it('PU, service, namespace and global changes', () => {
    assert.deepEqual(affectedAgents(st, { kind: 'processingunit', before: st.processingUnits[0], after: { ...st.processingUnits[0], agentId: 'a3' } }), ['a1', 'a3']);
    assert.deepEqual(affectedAgents(st, { kind: 'service', before: null, after: st.services[0] }), ['a1', 'a2', 'a3']);
    assert.deepEqual(affectedAgents(st, { kind: 'namespace', namespace: '/t' }), ['a1', 'a2']);
    assert.deepEqual(affectedAgents(st, { kind: 'global' }), ['a1', 'a2', 'a3']);
  });
});

describe('canonicalJson', () => {
  it('sorts keys, drops undefined, keeps array order', () => {
    assert.equal(canonicalJson({ b: [2, { d: 1, c: undefined, a: 'x' }], a: null }), '{"a":null,"b":[2,{"a":"x","d":1}]}');
    assert.throws(() => canonicalJson({ a: Number.NaN }), TypeError);
  });
});
