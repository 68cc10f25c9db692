/** What the control plane hands the compiler (docs/architecture.md). Ids are strings. */
export type Action = 'Allow' | 'Reject';
export type PuType = 'HostService' | 'LinuxProcess' | 'Host' | 'User';
export type ApplyPolicyMode = 'Bidirectional' | 'IncomingTraffic' | 'OutgoingTraffic';
export type Direction = 'incoming' | 'outgoing';

export interface NamespaceDef {
  name: string;
  defaultAction?: Action;
}

export interface ProcessingUnitDef {
  id: string;
  name: string;
  namespace: string;
  type: PuType;
  associatedTags: string[];
  ports: string[];
  agentId: string | null;
}

export interface ServiceDef {
  id: string;
  name: string;
  namespace: string;
  type: 'TCP' | 'HTTP';
  TLSType: string;
  hosts: string[];
  IPs: string[];
  exposedPort: number;
  port: number;
  selectors: string[][];
  associatedTags: string[];
  propagate?: boolean;
}

export interface NetworkPolicyDef {
  id: string;
  name: string;
  namespace: string;
  subject: string[][];
  object: string[][];
  action: Action;
  /** Empty = any port. */
  ports: string[];
  applyPolicyMode: ApplyPolicyMode;
  encryptionEnabled: boolean;
  logsEnabled: boolean;
  observationEnabled: boolean;
  propagate: boolean;
  fallback: boolean;
  disabled: boolean;
  /** ISO 8601; the policy stops applying at this instant. */
  expirationTime: string | null;
}

export interface AgentDef {
  id: string;
  name: string;
  namespace: string;
}

export interface PolicyState {
  revision: number;
  namespaces: NamespaceDef[];
  processingUnits: ProcessingUnitDef[];
  services: ServiceDef[];
  policies: NetworkPolicyDef[];
  agents: AgentDef[];
  /** PEM certificates. */
  trustBundle: string[];
  /** Revoked certificate serials, lower-case hex. */
  denyList: string[];
}

/** A policy as shipped to an agent: selectors and ports normalised, disabled policies already dropped. */
export interface CompiledPolicy {
  id: string;
  name: string;
  namespace: string;
  subject: string[][];
  object: string[][];
  action: Action;
  ports: string[];
  applyPolicyMode: ApplyPolicyMode;
  encryptionEnabled: boolean;
  logsEnabled: boolean;
  observationEnabled: boolean;
  propagate: boolean;
  fallback: boolean;
  expirationTime: string | null;
}

export interface RuleSetPu {
  id: string;
  name: string;
  namespace: string;
  type: PuType;
  tags: string[];
  ports: string[];
}

export interface RuleSet {
  agentId: string;
  namespace: string;
  revision: number;
  /** sha256 hex of canonicalJson of the rule set without `hash` and `revision`. */
  hash: string;
  pus: RuleSetPu[];
  services: ServiceDef[];
  policies: CompiledPolicy[];
  defaults: Record<string, Action>;
  trustBundle: string[];
  denyList: string[];
}

export interface ObservedVerdict {
  policyId: string;
  policyName: string;
  action: Action;
}

export type DecisionReason = 'policy' | 'fallback' | 'default' | 'unknown-pu' | 'bad-port';

export interface Decision {
  action: Action;
  policyId: string | null;
  policyName: string | null;
  reason: DecisionReason;
  observed: ObservedVerdict[];
}

export interface ExplanationEntry {
  policyId: string;
  policyName: string;
  matched: boolean;
  why: string;
}

export interface Explained extends Decision {
  explanation: ExplanationEntry[];
}
