// Builders for specs and the benchmark: full model objects from the few fields a case cares about.
import type { NetworkPolicyDef, PolicyState, ProcessingUnitDef, ServiceDef } from './model';

export function policy(p: Partial<NetworkPolicyDef> & Pick<NetworkPolicyDef, 'id' | 'subject' | 'object'>): NetworkPolicyDef {
  return {
    name: p.id,
    namespace: '/t',
    action: 'Allow',
    ports: [],
    applyPolicyMode: 'Bidirectional',
    encryptionEnabled: true,
    logsEnabled: false,
    observationEnabled: false,
    propagate: false,
    fallback: false,
    disabled: false,
    expirationTime: null,
    ...p,
  };
}

export function pu(p: Partial<ProcessingUnitDef> & Pick<ProcessingUnitDef, 'id'>): ProcessingUnitDef {
  return { name: p.id, namespace: '/t', type: 'HostService', associatedTags: [], ports: [], agentId: 'agent-1', ...p };
}

export function service(s: Partial<ServiceDef> & Pick<ServiceDef, 'id' | 'selectors'>): ServiceDef {
  return {
    name: s.id, namespace: '/t', type: 'TCP', TLSType: 'None', hosts: ['lb.test'], IPs: [],
    exposedPort: 7106, port: 8106, associatedTags: [], propagate: false, ...s,
  };
}

export function state(s: Partial<PolicyState>): PolicyState {
  return {
    revision: 1,
    namespaces: [],
    processingUnits: [],
    services: [],
    policies: [],
    agents: [{ id: 'agent-1', name: 'agent-1', namespace: '/t' }],
    trustBundle: [],
    denyList: [],
    ...s,
  };
}
