import { policyMayDial, policyPus, prepare, compilePolicy, compileService } from './compile';
import { parsePolicy } from './evaluate';
import type { NetworkPolicyDef, PolicyState, ProcessingUnitDef, ServiceDef } from './model';
import { appliesIn } from './namespace';
import { serviceSelects } from './service';
import { compareStrings } from './tags';

/**
 * One committed change. `before`/`after` are the object's old and new versions (null when created or
 * deleted); `state` given to affectedAgents is the state after the change.
 */
export type Change =
  | { kind: 'networkaccesspolicy'; before: NetworkPolicyDef | null; after: NetworkPolicyDef | null }
  | { kind: 'service'; before: ServiceDef | null; after: ServiceDef | null }
  | { kind: 'processingunit'; before: ProcessingUnitDef | null; after: ProcessingUnitDef | null }
  | { kind: 'namespace'; namespace: string }
  | { kind: 'agent'; agentId: string }
  /** Trust bundle, deny list, or anything whose reach is unknown: every agent. */
  | { kind: 'global' };

/**
 * The agents whose rule set can differ because of `change` (sorted, unique), so one policy edit
 * recompiles only the agents it touches. Sound: an agent left out has the same rule set (hash) before and
 * after — a property test pins this. Uses the same relevance tests as compile.
 */
export function affectedAgents(state: PolicyState, change: Change): string[] {
  const out = new Set<string>();
  switch (change.kind) {
    case 'global':
      return state.agents.map((a) => a.id).sort(compareStrings);
    case 'agent':
      out.add(change.agentId);
      break;
    case 'processingunit':
      // A PU appears only in its own agent's rule set (other agents learn its tags from certificates).
      for (const p of [change.before, change.after]) {
        if (p?.agentId) {
          out.add(p.agentId);
        }
      }
      break;
    case 'namespace':
      for (const p of state.processingUnits) {
        if (p.agentId && p.namespace === change.namespace) {
          out.add(p.agentId);
        }
      }
      break;
    case 'networkaccesspolicy': {
      const pr = prepare(state);
      for (const p of [change.before, change.after]) {
        if (p && !p.disabled) {
          const pp = parsePolicy(compilePolicy(p));
          const { subjectOf, objectOf } = policyPus(pr, pp);
          [...subjectOf, ...objectOf].forEach((u) => out.add(u.agentId));
        }
      }
      break;
    }
    case 'service': {
      const pr = prepare(state);
      for (const raw of [change.before, change.after]) {
        if (!raw) {
          continue;
        }
        const s = compileService(raw);
        // Every agent in the service's scope lists it (it intercepts the service even without an allowing policy).
        for (const a of state.agents) {
          if (appliesIn(s.namespace, s.propagate ?? false, a.namespace)) {
            out.add(a.id);
          }
        }
        for (const u of pr.pus) {
          if (serviceSelects(s, u.tags)) {
            out.add(u.agentId);
          }
        }
        // The service's tags only reach the PUs it selects (added above) and the clients that may dial it.
        for (const pp of pr.policies) {
          if (policyMayDial(pp, s)) {
            policyPus(pr, pp).subjectOf.forEach((u) => out.add(u.agentId));
          }
        }
      }
      break;
    }
  }
  const known = new Set(state.agents.map((a) => a.id));
  return [...out].filter((a) => known.has(a)).sort(compareStrings);
}
