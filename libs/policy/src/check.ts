import { compilePolicy, compileService } from './compile';
import { evaluateSide, portTag, type Side } from './evaluate';
import type { Action, CompiledPolicy, Decision, Direction, ExplanationEntry, PolicyState } from './model';
import { withPort } from './decide';
import { namespaceOf, serviceTagsAt } from './service';
import { sortUnique } from './tags';

export interface FlowQuery {
  namespace: string;
  subject: string[];
  object: string[];
  port: string;
  now?: Date;
}

export interface FlowCheck {
  action: Action;
  policyName: string | null;
  policyId: string | null;
  reason: Decision['reason'];
  /** Which end's decision is reported: the incoming one unless only the outgoing end rejects. */
  decidedBy: Direction;
  /** The object's tags as evaluated: the given ones + service associatedTags for this port + `$port`. */
  objectTags: string[];
  incoming: Decision;
  /** Null when the subject has no `$namespace` tag (its agent's policies are unknown). */
  outgoing: Decision | null;
  explanation: (ExplanationEntry & { direction: Direction })[];
}

const cache = new WeakMap<PolicyState, { policies: CompiledPolicy[]; defaults: Record<string, Action> }>();

/**
 * The what-if check behind `POST /v1/policycheck`, on plain tag lists (README rule 14). The object gets
 * the associatedTags of every service that selects it on `port` (rule 7) and the `$port` pseudo-tag
 * (rule 6). The incoming end is evaluated in `q.namespace` (the object's side); the outgoing end too when
 * the subject's namespace is known from its `$namespace` tag. The flow is allowed only if both evaluated
 * ends allow (rule 9); the reported action/policy/reason are the incoming end's, unless the incoming end
 * allows and the outgoing end rejects, in which case the outgoing end's are reported. `explanation`
 * lists every policy for each evaluated end with why it matched or not. Throws nothing for unknown tags.
 */
export function checkFlow(state: PolicyState, q: FlowQuery): FlowCheck {
  let prepared = cache.get(state);
  if (!prepared) {
    const defaults: Record<string, Action> = {};
    for (const n of state.namespaces) {
      if (n.defaultAction) {
        defaults[n.name] = n.defaultAction;
      }
    }
    prepared = { policies: state.policies.filter((p) => !p.disabled).map(compilePolicy), defaults };
    cache.set(state, prepared);
  }
  const { policies, defaults } = prepared;
  const nowMs = (q.now ?? new Date()).getTime();
  const services = state.services.map(compileService);
  const objectTags = sortUnique([...q.object, ...serviceTagsAt(services, q.object, q.port)]);
  const inSide: Side = {
    direction: 'incoming',
    namespace: q.namespace,
    localTags: [...objectTags.filter((t) => !t.startsWith('$port=')), portTag(q.port)],
    peerTags: q.subject,
    port: q.port,
  };
  const inc = evaluateSide(policies, defaults, inSide, nowMs);
  const explanation = inc.explanation.map((e) => ({ ...e, direction: 'incoming' as Direction }));
  const subjectNs = namespaceOf(q.subject);
  let out: ReturnType<typeof evaluateSide> | null = null;
  if (subjectNs !== null) {
    const outSide: Side = {
      direction: 'outgoing',
      namespace: subjectNs,
      localTags: q.subject,
      peerTags: withPort(objectTags, q.port),
      port: q.port,
    };
    out = evaluateSide(policies, defaults, outSide, nowMs);
    explanation.push(...out.explanation.map((e) => ({ ...e, direction: 'outgoing' as Direction })));
  }
  const strip = ({ explanation: _e, ...d }: ReturnType<typeof evaluateSide>): Decision => d;
  const incoming = strip(inc);
  const outgoing = out === null ? null : strip(out);
  const pick = incoming.action === 'Allow' && outgoing !== null && outgoing.action === 'Reject' ? outgoing : incoming;
  return {
    action: pick.action,
    policyName: pick.policyName,
    policyId: pick.policyId,
    reason: pick.reason,
    decidedBy: pick === incoming ? 'incoming' : 'outgoing',
    objectTags,
    incoming,
    outgoing,
    explanation,
  };
}
