import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  affectedAgents, canonicalJson, compile, decide, explain, isWithin, normalizeSelector,
  type Direction, type NetworkPolicyDef, type PolicyState, type RuleSet,
} from './index';
import { policy, pu, service, state } from './testing';

const NOW = new Date('2030-01-01T00:00:00Z');
const RUNS = { numRuns: 150 };
const NAMESPACES = ['/', '/a', '/a/b', '/a/c', '/d'];
const KEYS = ['app', 'env', 'tier'];
const VALUES = ['x', 'y', 'z'];

const tag = fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES)).map(([k, v]) => `${k}=${v}`);
const term = fc.oneof(
  tag,
  tag.map((t) => `${t}*`),
  fc.constantFrom(...KEYS).map((k) => `${k}=*`),
  tag.map((t) => t.replace('=', '!=')),
  fc.constantFrom(...KEYS).map((k) => `${k}!=*`),
  fc.constantFrom('$port=tcp/8106', '$namespace=/a', 'service=web'),
);
const clause = fc.uniqueArray(term, { minLength: 1, maxLength: 3 });
const selector = fc.array(clause, { minLength: 1, maxLength: 2 });
const ns = fc.constantFrom(...NAMESPACES);

const policyArb = (id: string, over: Partial<NetworkPolicyDef> = {}) =>
  fc.record({
    namespace: ns, subject: selector, object: selector, action: fc.constantFrom('Allow' as const, 'Reject' as const),
    ports: fc.constantFrom<string[][]>([], ['tcp/8106'], ['tcp/8000:8200'], ['tcp/9999']),
    applyPolicyMode: fc.constantFrom('Bidirectional' as const, 'IncomingTraffic' as const, 'OutgoingTraffic' as const),
    observationEnabled: fc.constantFrom(false, false, true),
    propagate: fc.boolean(), fallback: fc.boolean(), disabled: fc.constantFrom(false, false, false, true),
    expirationTime: fc.constantFrom(null, null, '2020-01-01T00:00:00Z', '2040-01-01T00:00:00Z'),
  }).map((r) => policy({ id, name: id, ...r, ...over }));

const stateArb = fc
  .tuple(
    fc.array(fc.record({ namespace: ns, tags: fc.uniqueArray(tag, { maxLength: 3 }), agent: fc.constantFrom('a1', 'a2', 'a3') }), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 0, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => policyArb(`p${i}`)))),
    fc.boolean(),
    fc.constantFrom<('Allow' | 'Reject' | undefined)[]>(undefined, 'Allow'),
  )
  .map(([pus, policies, withService, def]) =>
    state({
      namespaces: NAMESPACES.map((name) => ({ name, defaultAction: name === '/a' ? def : undefined })),
      processingUnits: pus.map((p, i) => pu({ id: `u${i}`, namespace: p.namespace, associatedTags: p.tags, ports: ['tcp/8106'], agentId: p.agent })),
      services: withService ? [service({ id: 's1', namespace: '/a', propagate: true, selectors: [['app=x']], associatedTags: ['service=web'] })] : [],
      policies: [...policies],
      agents: ['a1', 'a2', 'a3'].map((id) => ({ id, name: id, namespace: '/' })),
    }),
  );

const flowArb = fc.record({
  pu: fc.nat(3),
  direction: fc.constantFrom<Direction>('incoming', 'outgoing'),
  peer: fc.tuple(ns, fc.uniqueArray(tag, { maxLength: 3 })).map(([n, t]) => [`$namespace=${n}`, ...t]),
  port: fc.constantFrom('tcp/8106', 'tcp/9999'),
});
type Flow = { pu: number; direction: Direction; peer: string[]; port: string };

function verdict(st: PolicyState, f: Flow, rsList = compile(st)) {
  const p = st.processingUnits[f.pu % st.processingUnits.length];
  const rs = rsList.find((r) => r.agentId === p.agentId) as RuleSet;
  return decide(rs, p.id, f.direction, f.peer, f.port, NOW);
}

describe('policy properties', () => {
  it('rule 4: decisions do not depend on the order policies were written', () => {
    fc.assert(fc.property(stateArb, flowArb, (st, f) => {
      const reversed = { ...st, policies: [...st.policies].reverse(), processingUnits: [...st.processingUnits].reverse() };
      assert.deepEqual(verdict(reversed, { ...f, pu: st.processingUnits.length - 1 - (f.pu % st.processingUnits.length) }), verdict(st, f));
    }), RUNS);
  });
  it('the indexed decide agrees with the reference evaluator (explain)', () => {
    fc.assert(fc.property(stateArb, flowArb, (st, f) => {
      const p = st.processingUnits[f.pu % st.processingUnits.length];
      const rs = compile(st).find((r) => r.agentId === p.agentId) as RuleSet;
      const { explanation: _e, ...ref } = explain(rs, p.id, f.direction, f.peer, f.port, NOW);
      assert.deepEqual({ ...decide(rs, p.id, f.direction, f.peer, f.port, NOW) }, ref);
    }), RUNS);
  });
  it('rule 4: adding a Reject never turns a rejected flow into an allowed one', () => {
    fc.assert(fc.property(stateArb, flowArb, policyArb('zz', { action: 'Reject' }), (st, f, extra) => {
      fc.pre(verdict(st, f).action === 'Reject');
      assert.equal(verdict({ ...st, policies: [...st.policies, extra] }, f).action, 'Reject');
    }), RUNS);
  });
  it('rule 13: adding an Allow (observed or not) never turns an allowed flow into a rejected one', () => {
    fc.assert(fc.property(stateArb, flowArb, policyArb('zz', { action: 'Allow' }), (st, f, extra) => {
      fc.pre(verdict(st, f).action === 'Allow');
      assert.equal(verdict({ ...st, policies: [...st.policies, extra] }, f).action, 'Allow');
    }), RUNS);
  });
  it('rule 3: a policy never changes decisions at PUs outside its namespace subtree', () => {
    fc.assert(fc.property(stateArb, flowArb, policyArb('zz', { propagate: true }), (st, f, extra) => {
      const p = st.processingUnits[f.pu % st.processingUnits.length];
      fc.pre(!isWithin(p.namespace, extra.namespace));
      const before = verdict(st, f);
      assert.deepEqual(verdict({ ...st, policies: [...st.policies, extra] }, f), before);
    }), RUNS);
  });
  it('rule 2: normalisation is idempotent and ignores clause and term order', () => {
    fc.assert(fc.property(selector, (sel) => {
      const n = normalizeSelector(sel);
      assert.deepEqual(normalizeSelector(n), n);
      const shuffled = [...sel].reverse().map((c) => [...c].reverse());
      assert.deepEqual(normalizeSelector(shuffled), n);
    }), RUNS);
  });
  it('compile is deterministic: same state in any array order gives the same bytes', () => {
    fc.assert(fc.property(stateArb, (st) => {
      const shuffled = { ...st, policies: [...st.policies].reverse(), processingUnits: [...st.processingUnits].reverse(),
        agents: [...st.agents].reverse(), trustBundle: ['b', 'a'], denyList: ['0F', 'aa'] };
      const base = { ...st, trustBundle: ['a', 'b'], denyList: ['aa', '0f'] };
      assert.equal(canonicalJson(compile(shuffled)), canonicalJson(compile(base)));
    }), RUNS);
  });
  it('affectedAgents names every agent whose rule set a policy or service change alters', () => {
    fc.assert(fc.property(stateArb, policyArb('p0'), fc.boolean(), (st, edited, isService) => {
      const before = compile(st);
      let after: PolicyState;
      let agents: string[];
      if (isService) {
        const s = service({ id: 's2', namespace: edited.namespace, propagate: edited.propagate, selectors: edited.object, associatedTags: ['app=y'] });
        after = { ...st, services: [...st.services, s] };
        agents = affectedAgents(after, { kind: 'service', before: null, after: s });
      } else {
        const old = st.policies.find((p) => p.id === 'p0') ?? null;
        after = { ...st, policies: [...st.policies.filter((p) => p.id !== 'p0'), edited] };
        agents = affectedAgents(after, { kind: 'networkaccesspolicy', before: old, after: edited });
      }
      const next = compile(after);
      before.forEach((rs, i) => {
        if (!agents.includes(rs.agentId)) {
          assert.equal(next[i].hash, rs.hash, `agent ${rs.agentId} changed but was not reported`);
        }
      });
    }), RUNS);
  });
});
