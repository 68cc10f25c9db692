import type { Action, CompiledPolicy, Decision, Direction, ExplanationEntry, Explained, ObservedVerdict } from './model';
import { appliesIn, isWithin } from './namespace';
import { portMatches } from './ports';
import { clauseHolds, compileSelector, type Term } from './selector';
import { compareStrings } from './tags';

/** Key of the port pseudo-tag the object carries for a flow (README rule 6): `$port=tcp/8106`. */
export const PORT_TAG_KEY = '$port';

export function portTag(port: string): string {
  return `${PORT_TAG_KEY}=${port}`;
}

/** Rank of a matching policy: lower decides (README rules 4 and 5). */
export enum Rank {
  Reject = 0,
  Allow = 1,
  FallbackReject = 2,
  FallbackAllow = 3,
  None = 4,
}

/** A compiled policy with its selectors parsed, cached per policy object. */
export interface ParsedPolicy {
  readonly p: CompiledPolicy;
  readonly subject: Term[][];
  readonly object: Term[][];
  readonly rank: Rank;
  readonly expiresAt: number;
}

const parsedCache = new WeakMap<CompiledPolicy, ParsedPolicy>();

export function parsePolicy(p: CompiledPolicy): ParsedPolicy {
  let pp = parsedCache.get(p);
  if (!pp) {
    const reject = p.action === 'Reject';
    const rank = p.fallback ? (reject ? Rank.FallbackReject : Rank.FallbackAllow) : reject ? Rank.Reject : Rank.Allow;
    const t = p.expirationTime === null ? Number.POSITIVE_INFINITY : Date.parse(p.expirationTime);
    pp = {
      p,
      subject: compileSelector(p.subject),
      object: compileSelector(p.object),
      rank,
      // An unparseable expiry counts as already expired: fail closed for Allow, and a Reject that cannot
      // say when it ends is refused on write anyway.
      expiresAt: Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t,
    };
    parsedCache.set(p, pp);
  }
  return pp;
}

/** Does this end apply the policy at all (README rule 8)? */
export function modeApplies(p: CompiledPolicy, direction: Direction): boolean {
  switch (p.applyPolicyMode) {
    case 'Bidirectional':
      return true;
    case 'IncomingTraffic':
      return direction === 'incoming';
    case 'OutgoingTraffic':
      return direction === 'outgoing';
  }
}

/** Deterministic tie-break between policies of the same rank: by name, then id (never write order). */
export function policyOrder(a: CompiledPolicy, b: CompiledPolicy): number {
  return compareStrings(a.name, b.name) || compareStrings(a.id, b.id);
}

/** One end of a flow, fully resolved: whose namespace, the local and peer tag lists (with `$port`). */
export interface Side {
  direction: Direction;
  namespace: string;
  /** Incoming: the object's tags (PU + service tags + `$port`). Outgoing: the subject's tags. */
  localTags: readonly string[];
  /** Incoming: the subject's tags. Outgoing: the object's tags (+ `$port`). */
  peerTags: readonly string[];
  port: string;
}

const holds = (sel: Term[][], tags: readonly string[]): boolean => sel.some((c) => clauseHolds(c, tags));

/**
 * The reference evaluator: looks at every policy, in any order, and applies README rules 3–13 literally.
 * decide() must agree with it on every input (a property test pins that); explain() and checkFlow() use it.
 */
export function evaluateSide(
  policies: readonly CompiledPolicy[],
  defaults: Readonly<Record<string, Action>>,
  side: Side,
  nowMs: number,
): Explained {
  const explanation: ExplanationEntry[] = [];
  const observed: ObservedVerdict[] = [];
  let best: ParsedPolicy | null = null;
  const incoming = side.direction === 'incoming';
  for (const p of policies) {
    const pp = parsePolicy(p);
    const why = rejectReason(pp, side, nowMs, incoming);
    explanation.push({ policyId: p.id, policyName: p.name, matched: why === null, why: why ?? matchedWhy(pp) });
    if (why !== null) {
      continue;
    }
    if (p.observationEnabled) {
      observed.push({ policyId: p.id, policyName: p.name, action: p.action });
    } else if (best === null || pp.rank < best.rank || (pp.rank === best.rank && policyOrder(p, best.p) < 0)) {
      best = pp;
    }
  }
  explanation.sort((a, b) => compareStrings(a.policyName, b.policyName) || compareStrings(a.policyId, b.policyId));
  observed.sort((a, b) => compareStrings(a.policyName, b.policyName) || compareStrings(a.policyId, b.policyId));
  if (best === null) {
    const action = defaults[side.namespace] ?? 'Reject';
    return { action, policyId: null, policyName: null, reason: 'default', observed, explanation };
  }
  return {
    action: best.p.action,
    policyId: best.p.id,
    policyName: best.p.name,
    reason: best.p.fallback ? 'fallback' : 'policy',
    observed,
    explanation,
  };
}

function matchedWhy(pp: ParsedPolicy): string {
  const kind = pp.p.fallback ? 'fallback ' : '';
  return pp.p.observationEnabled
    ? `matched; observation mode records ${pp.p.action} without enforcing it`
    : `matched: ${kind}${pp.p.action}`;
}

function rejectReason(pp: ParsedPolicy, side: Side, nowMs: number, incoming: boolean): string | null {
  const p = pp.p;
  if (!appliesIn(p.namespace, p.propagate, side.namespace)) {
    return isWithin(side.namespace, p.namespace)
      ? `written in ${p.namespace} without propagate, so it does not apply in ${side.namespace}`
      : `written in ${p.namespace}, which does not contain ${side.namespace}`;
  }
  if (!modeApplies(p, side.direction)) {
    return `applyPolicyMode ${p.applyPolicyMode} is not applied on the ${side.direction} side`;
  }
  if (nowMs >= pp.expiresAt) {
    return `expired at ${p.expirationTime ?? '?'}`;
  }
  if (!portMatches(p.ports, side.port)) {
    return `port ${side.port} is not in [${p.ports.join(', ')}]`;
  }
  const objectTags = incoming ? side.localTags : side.peerTags;
  const subjectTags = incoming ? side.peerTags : side.localTags;
  if (!holds(pp.object, objectTags)) {
    return 'object selector does not match';
  }
  if (!holds(pp.subject, subjectTags)) {
    return 'subject selector does not match';
  }
  return null;
}

/** Drops the explanation (decide's shape). */
export function toDecision(e: Explained): Decision {
  return { action: e.action, policyId: e.policyId, policyName: e.policyName, reason: e.reason, observed: e.observed };
}
