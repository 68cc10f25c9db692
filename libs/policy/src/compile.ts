import { canonicalJson, sha256Hex } from './canonical';
import { PolicyError } from './errors';
import { modeApplies, parsePolicy, PORT_TAG_KEY, type ParsedPolicy } from './evaluate';
import type { Action, CompiledPolicy, NetworkPolicyDef, PolicyState, RuleSet, RuleSetPu, ServiceDef } from './model';
import { appliesIn, isWithin } from './namespace';
import { validatePorts } from './ports';
import { puTags } from './pu-tags';
import { clauseHolds, compileSelector, normalizeSelector, type Term } from './selector';
import { serviceObjectTags, serviceSelects } from './service';
import { compareStrings, sortUnique } from './tags';

/**
 * Normalises a stored policy into the form agents receive (selectors and ports in normal form).
 * Throws PolicyError with a path like `policies[<id>].subject[0][1]` if the stored data is invalid —
 * the API validates on write, so this only fires on a corrupted row, and refusing to compile is safer
 * than silently dropping what might be a Reject.
 */
export function compilePolicy(p: NetworkPolicyDef): CompiledPolicy {
  const at = `policies[${p.id}]`;
  return {
    id: p.id,
    name: p.name,
    namespace: p.namespace,
    subject: normalizeSelector(p.subject, `${at}.subject`),
    object: normalizeSelector(p.object, `${at}.object`),
    action: p.action,
    ports: validatePorts(p.ports, `${at}.ports`),
    applyPolicyMode: p.applyPolicyMode,
    encryptionEnabled: p.encryptionEnabled,
    logsEnabled: p.logsEnabled,
    observationEnabled: p.observationEnabled,
    propagate: p.propagate,
    fallback: p.fallback,
    expirationTime: p.expirationTime,
  };
}

/** A service in normal form (selectors normalised, tags sorted, `propagate` explicit). */
export function compileService(s: ServiceDef): ServiceDef {
  return {
    id: s.id,
    name: s.name,
    namespace: s.namespace,
    type: s.type,
    TLSType: s.TLSType,
    hosts: [...s.hosts],
    IPs: [...s.IPs],
    exposedPort: s.exposedPort,
    port: s.port,
    selectors: normalizeSelector(s.selectors, `services[${s.id}].selectors`),
    associatedTags: sortUnique(s.associatedTags),
    propagate: s.propagate ?? false,
  };
}

interface PuInfo {
  readonly rs: RuleSetPu;
  readonly agentId: string;
  /** Effective tags: always present on the PU. */
  readonly tags: string[];
  /** Effective tags plus the tags of every service that selects the PU (on some port). */
  readonly maybe: string[];
  /** Services whose selectors pick this PU. */
  readonly selectedBy: ServiceDef[];
}

/** Everything compile needs, derived once from the state. */
export interface Prepared {
  readonly state: PolicyState;
  /** Canonical JSON of each shared policy/service object, computed once per compile, not once per agent. */
  readonly canon: Map<object, string>;
  readonly pus: PuInfo[];
  readonly byTag: Map<string, PuInfo[]>;
  readonly byNamespace: Map<string, PuInfo[]>;
  readonly policies: ParsedPolicy[];
  readonly services: ServiceDef[];
  readonly defaults: Map<string, Action>;
}

/** Prepares the state; `onlyAgent` limits the PUs to one agent (compileFor). */
export function prepare(state: PolicyState, onlyAgent?: string): Prepared {
  const services = state.services.map(compileService).sort((a, b) => compareStrings(a.id, b.id));
  const svcIndex = indexServices(services);
  const pus: PuInfo[] = [];
  const byTag = new Map<string, PuInfo[]>();
  const byNamespace = new Map<string, PuInfo[]>();
  for (const pu of state.processingUnits) {
    if (pu.agentId === null || (onlyAgent !== undefined && pu.agentId !== onlyAgent)) {
      continue;
    }
    const tags = puTags(pu);
    const selectedBy = servicesSelecting(svcIndex, tags);
    const extra = selectedBy.flatMap((s) => s.associatedTags);
    const maybe = extra.length ? sortUnique([...tags, ...extra]) : tags;
    const info: PuInfo = {
      rs: { id: pu.id, name: pu.name, namespace: pu.namespace, type: pu.type, tags, ports: validatePorts(pu.ports, `processingUnits[${pu.id}].ports`) },
      agentId: pu.agentId,
      tags,
      maybe,
      selectedBy,
    };
    pus.push(info);
    for (const t of maybe) {
      push(byTag, t, info);
    }
    push(byNamespace, pu.namespace, info);
  }
  const policies = state.policies
    .filter((p) => !p.disabled)
    .map(compilePolicy)
    .sort((a, b) => compareStrings(a.id, b.id))
    .map(parsePolicy);
  const defaults = new Map<string, Action>();
  for (const n of state.namespaces) {
    if (n.defaultAction) {
      defaults.set(n.name, n.defaultAction);
    }
  }
  return { state, canon: new Map(), pus, byTag, byNamespace, policies, services, defaults };
}

interface ServiceIndex {
  readonly byNeedle: Map<string, ServiceDef[]>;
  readonly always: ServiceDef[];
}

/** Services bucketed by one exact term per clause, so each PU tests only services that could pick it. */
function indexServices(services: readonly ServiceDef[]): ServiceIndex {
  const ix: ServiceIndex = { byNeedle: new Map(), always: [] };
  for (const s of services) {
    const keys = compileSelector(s.selectors).map((c) => c.find((t) => !t.prefix && !t.negate)?.needle);
    if (keys.some((k) => k === undefined)) {
      ix.always.push(s);
    } else {
      new Set(keys as string[]).forEach((k) => push(ix.byNeedle, k, s));
    }
  }
  return ix;
}

function servicesSelecting(ix: ServiceIndex, tags: readonly string[]): ServiceDef[] {
  const cands = new Set<ServiceDef>(ix.always);
  for (const t of tags) {
    ix.byNeedle.get(t)?.forEach((s) => cands.add(s));
  }
  return [...cands].filter((s) => serviceSelects(s, tags)).sort((a, b) => compareStrings(a.id, b.id));
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) {
    l.push(v);
  } else {
    m.set(k, [v]);
  }
}

/**
 * Could this object clause hold for the PU on some port? Sound over-approximation (never false when it
 * could be true): positive terms are tested against tags ∪ all service tags, `$port` terms are unknown,
 * negative terms fail only when the PU's own tags (always present) already violate them.
 */
function objectMayHold(clause: readonly Term[], pu: PuInfo): boolean {
  for (const t of clause) {
    if (t.key === PORT_TAG_KEY) {
      continue;
    }
    if (t.negate ? !clauseHolds([t], pu.tags) : !clauseHolds([t], pu.maybe)) {
      return false;
    }
  }
  return true;
}

/** PUs in scope of a policy (or service) written in `ns`, optionally filtered by an exact tag. */
function candidates(pr: Prepared, ns: string, propagate: boolean, clause: readonly Term[]): PuInfo[] {
  const key = clause.find((t) => !t.prefix && !t.negate && t.key !== PORT_TAG_KEY);
  if (key) {
    return pr.byTag.get(key.needle) ?? [];
  }
  if (!propagate) {
    return pr.byNamespace.get(ns) ?? [];
  }
  const out: PuInfo[] = [];
  for (const [n, list] of pr.byNamespace) {
    if (isWithin(n, ns)) {
      out.push(...list);
    }
  }
  return out;
}

/** Local PUs a policy can matter to, as subject (outgoing) or object (incoming). */
export function policyPus(pr: Prepared, pp: ParsedPolicy): { subjectOf: PuInfo[]; objectOf: PuInfo[] } {
  const p = pp.p;
  const subjectOf = new Set<PuInfo>();
  const objectOf = new Set<PuInfo>();
  const inScope = (pu: PuInfo): boolean => appliesIn(p.namespace, p.propagate, pu.rs.namespace);
  if (modeApplies(p, 'outgoing')) {
    for (const c of pp.subject) {
      for (const pu of candidates(pr, p.namespace, p.propagate, c)) {
        if (inScope(pu) && clauseHolds(c, pu.tags)) {
          subjectOf.add(pu);
        }
      }
    }
  }
  if (modeApplies(p, 'incoming')) {
    for (const c of pp.object) {
      for (const pu of candidates(pr, p.namespace, p.propagate, c)) {
        if (inScope(pu) && objectMayHold(c, pu)) {
          objectOf.add(pu);
        }
      }
    }
  }
  return { subjectOf: [...subjectOf], objectOf: [...objectOf] };
}

/** Could a client of this policy dial service `s` (the object clause may hold for the service's tags)? */
export function policyMayDial(pp: ParsedPolicy, s: ServiceDef): boolean {
  if (!modeApplies(pp.p, 'outgoing')) {
    return false;
  }
  const tags = serviceObjectTags(s);
  return pp.object.some((c) => clauseHolds(c.filter((t) => t.key !== PORT_TAG_KEY), tags));
}

interface AgentAcc {
  pus: PuInfo[];
  policies: Set<ParsedPolicy>;
  services: Set<ServiceDef>;
}

function assemble(pr: Prepared, onlyAgent?: string): Map<string, AgentAcc> {
  const acc = new Map<string, AgentAcc>();
  for (const a of pr.state.agents) {
    if (onlyAgent === undefined || a.id === onlyAgent) {
      acc.set(a.id, { pus: [], policies: new Set(), services: new Set() });
    }
  }
  for (const pu of pr.pus) {
    acc.get(pu.agentId)?.pus.push(pu);
  }
  // Every service visible in the agent's namespace: the agent listens for it (and intercepts it in transparent
  // mode) even where no local PU may dial it, so such a flow is refused by a decision, counted and reported,
  // instead of leaving the host unseen (README, "The compiler").
  for (const a of pr.state.agents) {
    const x = acc.get(a.id);
    if (x) {
      for (const s of pr.services) {
        if (appliesIn(s.namespace, s.propagate ?? false, a.namespace)) {
          x.services.add(s);
        }
      }
    }
  }
  // Services whose selectors pick a local PU: their tags become the object's (rule 7).
  for (const pu of pr.pus) {
    const a = acc.get(pu.agentId);
    pu.selectedBy.forEach((s) => a?.services.add(s));
  }
  for (const pp of pr.policies) {
    const { subjectOf, objectOf } = policyPus(pr, pp);
    for (const pu of objectOf) {
      acc.get(pu.agentId)?.policies.add(pp);
    }
    if (subjectOf.length === 0) {
      continue;
    }
    const dial = pr.services.filter((s) => policyMayDial(pp, s));
    for (const pu of subjectOf) {
      const a = acc.get(pu.agentId);
      if (a) {
        a.policies.add(pp);
        dial.forEach((s) => a.services.add(s));
      }
    }
  }
  return acc;
}

function canonOf(pr: Prepared, o: object): string {
  let c = pr.canon.get(o);
  if (c === undefined) {
    c = canonicalJson(o);
    pr.canon.set(o, c);
  }
  return c;
}

function ruleSetOf(pr: Prepared, agentId: string, a: AgentAcc): RuleSet {
  const agent = pr.state.agents.find((x) => x.id === agentId);
  const defaults: Record<string, Action> = {};
  for (const ns of sortUnique(a.pus.map((p) => p.rs.namespace))) {
    defaults[ns] = pr.defaults.get(ns) ?? 'Reject';
  }
  const pus = a.pus.map((p) => p.rs).sort((x, y) => compareStrings(x.id, y.id));
  const services = [...a.services].sort((x, y) => compareStrings(x.id, y.id));
  const policies = [...a.policies].map((pp) => pp.p).sort((x, y) => compareStrings(x.id, y.id));
  const trustBundle = sortUnique(pr.state.trustBundle);
  const denyList = sortUnique(pr.state.denyList.map((s) => s.toLowerCase()));
  const namespace = agent?.namespace ?? '';
  // canonicalJson of the body, assembled from per-object canonical strings (keys in sorted order) so a
  // policy shared by a thousand agents is encoded once. A spec checks it equals canonicalJson(body).
  const text =
    `{"agentId":${JSON.stringify(agentId)},"defaults":${canonicalJson(defaults)},"denyList":${JSON.stringify(denyList)},` +
    `"namespace":${JSON.stringify(namespace)},"policies":[${policies.map((p) => canonOf(pr, p)).join(',')}],` +
    `"pus":[${pus.map((p) => canonOf(pr, p)).join(',')}],"services":[${services.map((x) => canonOf(pr, x)).join(',')}],` +
    `"trustBundle":${JSON.stringify(trustBundle)}}`;
  // The hash covers content only (not the revision): an unchanged rule set keeps its hash across
  // revisions, so an agent that already applied it can ack without re-applying.
  return { agentId, namespace, revision: pr.state.revision, hash: sha256Hex(text), pus, services, policies, defaults, trustBundle, denyList };
}

/** The content a rule set's hash covers: everything but `hash` and `revision`. */
export function hashedContent(rs: RuleSet): Omit<RuleSet, 'hash' | 'revision'> {
  const { hash: _h, revision: _r, ...body } = rs;
  return body;
}

/**
 * Compiles the state into one rule set per agent (DESIGN.md §5), sorted by agentId. Each holds only that
 * agent's PUs (with effective tags), the policies that can match one of them as subject or object, the
 * services that select them or that they may dial, the defaults of their namespaces, the trust bundle and
 * the deny list. Deterministic: the same state (in any array order) gives the same bytes and hash.
 * Disabled policies are left out. Throws PolicyError only for invalid stored data.
 */
export function compile(state: PolicyState): RuleSet[] {
  const pr = prepare(state);
  const acc = assemble(pr);
  return [...acc.keys()].sort(compareStrings).map((id) => ruleSetOf(pr, id, acc.get(id) as AgentAcc));
}

/** The rule set of one agent, equal to its element of compile(state). Throws `unknown_agent`. */
export function compileFor(state: PolicyState, agentId: string): RuleSet {
  if (!state.agents.some((a) => a.id === agentId)) {
    throw new PolicyError('unknown_agent', 'agentId', `no agent "${agentId}"`);
  }
  const pr = prepare(state, agentId);
  const acc = assemble(pr, agentId);
  return ruleSetOf(pr, agentId, acc.get(agentId) as AgentAcc);
}
