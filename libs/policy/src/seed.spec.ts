import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import {
  PolicyError, checkFlow, compile, decide, normalizeSelector, objectTagsForService, serviceSelects, validatePortNumber, validateTags,
  type NetworkPolicyDef, type ServiceDef,
} from './index';
import { pu, state } from './testing';

// dist/libs/policy/src → repository root
const examples = join(__dirname, '..', '..', '..', '..', 'examples');
const NS = '/aporeto/lbtest3';

function load(file: string): { services?: Record<string, unknown>[]; networkaccesspolicies?: Record<string, unknown>[] } {
  return (parse(readFileSync(join(examples, file), 'utf8')) as { data: never }).data;
}

function seedState() {
  const svc = load('seed-lb-service.yaml').services?.[0] as unknown as ServiceDef;
  const pol = load('seed-policy.yaml').networkaccesspolicies?.[0] as unknown as Partial<NetworkPolicyDef>;
  return state({
    namespaces: [{ name: '/aporeto' }, { name: NS }],
    services: [{ ...svc, id: 'svc-1', namespace: NS }],
    policies: [{ ports: [], observationEnabled: false, fallback: false, disabled: false, expirationTime: null, ...pol, id: 'pol-1' } as NetworkPolicyDef],
    processingUnits: [
      pu({ id: 'server', namespace: NS, type: 'HostService', ports: ['tcp/8106'], agentId: 'server-agent' }),
      pu({ id: 'client', namespace: NS, type: 'LinuxProcess', associatedTags: ['app=client'], agentId: 'client-agent' }),
    ],
    agents: [
      { id: 'client-agent', name: 'client', namespace: NS },
      { id: 'server-agent', name: 'server', namespace: NS },
    ],
  });
}

const subject = [`$namespace=${NS}`, 'app=client'];
const object = [`$namespace=${NS}`, '$identity=processingunit', '$type=HostService', 'hs:name=tcp:8106'];

describe('seed scenario (issue 3 done-when)', () => {
  it('rule 14: app=client to the host service on tcp/8106 is Allow by client-to-mylbtest3', () => {
    const r = checkFlow(seedState(), { namespace: NS, subject, object, port: 'tcp/8106' });
    assert.equal(r.action, 'Allow');
    assert.equal(r.policyName, 'client-to-mylbtest3');
    assert.equal(r.policyId, 'pol-1');
    assert.equal(r.reason, 'policy');
    assert.ok(r.objectTags.includes('service=mylbtest3'));
    assert.equal(r.outgoing?.action, 'Allow');
    assert.ok(r.explanation.some((e) => e.policyName === 'client-to-mylbtest3' && e.matched));
  });
  it('rule 14: without app=client it is Reject by the namespace default', () => {
    const r = checkFlow(seedState(), { namespace: NS, subject: [`$namespace=${NS}`], object, port: 'tcp/8106' });
    assert.deepEqual([r.action, r.reason, r.policyName], ['Reject', 'default', null]);
    assert.equal(r.explanation[0].why, 'subject selector does not match');
  });
  it('rule 14: on tcp/9999 it is Reject (the object does not implement the service there)', () => {
    const r = checkFlow(seedState(), { namespace: NS, subject, object, port: 'tcp/9999' });
    assert.deepEqual([r.action, r.reason], ['Reject', 'default']);
    assert.ok(!r.objectTags.includes('service=mylbtest3'));
  });
  it('rule 7 and rule 9: the compiled rule sets allow the flow at both agents and refuse a rogue peer', () => {
    const [client, server] = compile(seedState());
    assert.equal(client.agentId, 'client-agent');
    const now = new Date();
    const clientPu = client.pus[0];
    const svcTags = objectTagsForService(client, 'svc-1');
    assert.ok(svcTags.includes('service=mylbtest3'));
    assert.equal(decide(client, clientPu.id, 'outgoing', svcTags, 'tcp/8106', now).action, 'Allow');
    assert.equal(decide(server, 'server', 'incoming', clientPu.tags, 'tcp/8106', now).policyName, 'client-to-mylbtest3');
    assert.equal(decide(server, 'server', 'incoming', [`$namespace=${NS}`, 'app=rogue'], 'tcp/8106', now).action, 'Reject');
    assert.equal(serviceSelects(server.services[0], server.pus[0].tags), true);
    assert.equal(serviceSelects(server.services[0], clientPu.tags), false);
  });
});

describe('examples/bad-inputs.yaml', () => {
  it('rules 1, 2 and 6: the selector, tag and port cases are refused with a code naming the field', () => {
    const docs = parseAllDocuments(readFileSync(join(examples, 'bad-inputs.yaml'), 'utf8')).map(
      (d) => (d.toJSON() as { data: Record<string, Record<string, unknown>[]> }).data,
    );
    const codeOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof PolicyError);
        return `${e.code}@${e.path}`;
      }
      return 'accepted';
    };
    const policy = docs[1].networkaccesspolicies[0];
    assert.equal(codeOf(() => normalizeSelector(policy.subject, 'subject')), 'selector_clause_empty@subject[0]');
    const forged = docs[2].processingunits[0];
    assert.equal(codeOf(() => validateTags(forged.associatedTags, { field: 'associatedTags' })), 'tag_system_forbidden@associatedTags[0]');
    const svc = docs[3].services[0];
    assert.equal(codeOf(() => validatePortNumber(svc.exposedPort, 'exposedPort')), 'port_out_of_range@exposedPort');
  });
});
