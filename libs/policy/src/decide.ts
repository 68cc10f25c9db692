import { evaluateSide, modeApplies, parsePolicy, portTag, policyOrder, PORT_TAG_KEY, type Rank, type Side } from './evaluate';
import type { Action, Decision, Direction, Explained, ObservedVerdict, RuleSet, RuleSetPu } from './model';
import { appliesIn } from './namespace';
import { parsePort, portMatches } from './ports';
import { clauseHolds, type Term } from './selector';
import { serviceTagsAt } from './service';
import { compareStrings } from './tags';

/**
 * The hot path. For one (PU, direction, port) everything that does not depend on the peer is settled once
 * and cached: namespace scope, applyPolicyMode, ports, the local side's selector (the PU's own tags, with
 * service tags and `$port` for the object). What is left are the peer-side clauses of the policies that
 * survived, bucketed by one exact term each, so a decision looks up the peer's handful of tags in a Map
 * instead of scanning rules — the same idea as a firewall's per-interface chains plus a hash match.
 */

interface Entry {
  readonly policyId: string;
  readonly policyName: string;
  readonly action: Action;
  readonly rank: Rank;
  readonly order: number;
  readonly observation: boolean;
  readonly expiresAt: number;
  /** Shared, frozen answer for "this policy decided, nothing observed": decide allocates nothing then. */
  readonly decision: Decision;
  seen: number;
}

interface Cand {
  readonly entry: Entry;
  readonly clause: readonly Term[];
}

interface Slot {
  readonly buckets: Map<string, Cand[]>;
  readonly always: Cand[];
  readonly fallbackDecision: Decision;
  readonly empty: boolean;
}

interface Index {
  readonly pus: Map<string, RuleSetPu>;
  /** puId → [incoming slots by port, outgoing slots by port]; nested maps avoid building a key string. */
  readonly slots: Map<string, [Map<string, Slot>, Map<string, Slot>]>;
  size: number;
}

const MAX_SLOTS = 16384;
const NONE: readonly ObservedVerdict[] = Object.freeze([]);
const indexes = new WeakMap<RuleSet, Index>();
let stamp = 0;

function frozen(d: Decision): Decision {
  return Object.freeze(d);
}

function indexOf(rs: RuleSet): Index {
  let ix = indexes.get(rs);
  if (!ix) {
    ix = { pus: new Map(rs.pus.map((p) => [p.id, p])), slots: new Map(), size: 0 };
    indexes.set(rs, ix);
  }
  return ix;
}

/** Tags of the local PU for this end: the object gets service tags and `$port` (README rules 6, 7). */
export function localTagsOf(rs: RuleSet, pu: RuleSetPu, direction: Direction, port: string): string[] {
  if (direction === 'outgoing') {
    return pu.tags;
  }
  return [...pu.tags, ...serviceTagsAt(rs.services, pu.tags, port), portTag(port)];
}

function buildSlot(rs: RuleSet, pu: RuleSetPu, direction: Direction, port: string): Slot {
  const incoming = direction === 'incoming';
  const local = localTagsOf(rs, pu, direction, port);
  const pTag = portTag(port);
  const live = rs.policies
    .filter((p) => appliesIn(p.namespace, p.propagate, pu.namespace) && modeApplies(p, direction))
    .filter((p) => portMatches(p.ports, port))
    .map(parsePolicy)
    .filter((pp) => (incoming ? pp.object : pp.subject).some((c) => clauseHolds(c, local)));
  live.sort((a, b) => policyOrder(a.p, b.p));
  const buckets = new Map<string, Cand[]>();
  const always: Cand[] = [];
  live.forEach((pp, order) => {
    const p = pp.p;
    const entry: Entry = {
      policyId: p.id,
      policyName: p.name,
      action: p.action,
      rank: pp.rank,
      order,
      observation: p.observationEnabled,
      expiresAt: pp.expiresAt,
      decision: frozen({ action: p.action, policyId: p.id, policyName: p.name,
        reason: p.fallback ? 'fallback' : 'policy', observed: NONE as ObservedVerdict[] }),
      seen: 0,
    };
    for (const clause of incoming ? pp.subject : pp.object) {
      // On the outgoing side the peer is the object, whose `$port` is known now: settle those terms here.
      let rest: Term[] | null = [...clause];
      if (!incoming) {
        const portTerms = rest.filter((t) => t.key === PORT_TAG_KEY);
        rest = clauseHolds(portTerms, [pTag]) ? rest.filter((t) => t.key !== PORT_TAG_KEY) : null;
      }
      if (rest === null) {
        continue;
      }
      const cand: Cand = { entry, clause: rest };
      const key = rest.find((t) => !t.prefix && !t.negate);
      if (key) {
        const list = buckets.get(key.needle);
        if (list) {
          list.push(cand);
        } else {
          buckets.set(key.needle, [cand]);
        }
      } else {
        always.push(cand);
      }
    }
  });
  const action = rs.defaults[pu.namespace] ?? 'Reject';
  return {
    buckets,
    always,
    empty: buckets.size === 0 && always.length === 0,
    fallbackDecision: frozen({ action, policyId: null, policyName: null, reason: 'default', observed: NONE as ObservedVerdict[] }),
  };
}

const UNKNOWN_PU = frozen({ action: 'Reject', policyId: null, policyName: null, reason: 'unknown-pu', observed: NONE as ObservedVerdict[] });
const BAD_PORT = frozen({ action: 'Reject', policyId: null, policyName: null, reason: 'bad-port', observed: NONE as ObservedVerdict[] });

function slotFor(rs: RuleSet, puId: string, direction: Direction, port: string): Slot | Decision {
  const ix = indexOf(rs);
  const perPu = ix.slots.get(puId);
  let slot = perPu?.[direction === 'incoming' ? 0 : 1].get(port);
  if (slot) {
    return slot;
  }
  const pu = ix.pus.get(puId);
  if (!pu) {
    return UNKNOWN_PU;
  }
  let ok = false;
  try {
    const r = parsePort(port);
    ok = r.from === r.to;
  } catch {
    ok = false;
  }
  if (!ok) {
    return BAD_PORT;
  }
  slot = buildSlot(rs, pu, direction, port);
  if (ix.size >= MAX_SLOTS) {
    ix.slots.clear(); // bounded memory: the port is peer-chosen on some paths
    ix.size = 0;
  }
  let maps = ix.slots.get(puId);
  if (!maps) {
    maps = [new Map(), new Map()];
    ix.slots.set(puId, maps);
  }
  maps[direction === 'incoming' ? 0 : 1].set(port, slot);
  ix.size++;
  return slot;
}

/**
 * Decides one flow at one end (README rules 3–13): `puId` is the local PU of this agent's rule set,
 * `direction` 'incoming' on the server's agent (peer = subject) or 'outgoing' on the client's agent
 * (peer = object, e.g. objectTagsForService), `peerTags` the peer's effective tags (from its
 * certificate), `port` the concrete destination port `tcp/8106`. Returns a frozen Decision; never throws:
 * an unknown PU or a malformed port is a Reject ('unknown-pu', 'bad-port'). The rule set must not be
 * mutated after the first call (indexes are cached per rule-set object; agents swap whole rule sets).
 */
export function decide(
  ruleSet: RuleSet,
  puId: string,
  direction: Direction,
  peerTags: readonly string[],
  port: string,
  now: Date,
): Decision {
  const s = slotFor(ruleSet, puId, direction, port);
  if (!('buckets' in s)) {
    return s;
  }
  if (s.empty) {
    return s.fallbackDecision;
  }
  const nowMs = now.getTime();
  const mark = ++stamp;
  let best: Entry | null = null;
  let observed: ObservedVerdict[] | null = null;
  const visit = (cands: readonly Cand[]): void => {
    for (let i = 0; i < cands.length; i++) {
      const c = cands[i];
      const e = c.entry;
      if (e.seen === mark || nowMs >= e.expiresAt) {
        continue;
      }
      if (!e.observation && best !== null && (e.rank > best.rank || (e.rank === best.rank && e.order > best.order))) {
        continue;
      }
      if (!clauseHolds(c.clause, peerTags)) {
        continue;
      }
      e.seen = mark;
      if (e.observation) {
        (observed ??= []).push({ policyId: e.policyId, policyName: e.policyName, action: e.action });
      } else {
        best = e;
      }
    }
  };
  for (let i = 0; i < peerTags.length; i++) {
    const list = s.buckets.get(peerTags[i]);
    if (list !== undefined) {
      visit(list);
    }
  }
  if (s.always.length > 0) {
    visit(s.always);
  }
  const winner = best as Entry | null;
  const base = winner === null ? s.fallbackDecision : winner.decision;
  if (observed === null) {
    return base;
  }
  const obs: ObservedVerdict[] = observed;
  obs.sort((a, b) => compareStrings(a.policyName, b.policyName) || compareStrings(a.policyId, b.policyId));
  return { action: base.action, policyId: base.policyId, policyName: base.policyName, reason: base.reason, observed: obs };
}

/**
 * The same decision as decide, made by the reference evaluator, with one explanation entry per policy of
 * the rule set saying why it matched or not. For tooling and the what-if API — not the hot path.
 */
export function explain(
  ruleSet: RuleSet,
  puId: string,
  direction: Direction,
  peerTags: readonly string[],
  port: string,
  now: Date,
): Explained {
  const s = slotFor(ruleSet, puId, direction, port);
  if (!('buckets' in s)) {
    return { ...s, observed: [], explanation: [] };
  }
  const pu = indexOf(ruleSet).pus.get(puId) as RuleSetPu;
  const side: Side = {
    direction,
    namespace: pu.namespace,
    localTags: localTagsOf(ruleSet, pu, direction, port),
    peerTags: direction === 'outgoing' ? withPort(peerTags, port) : peerTags,
    port,
  };
  return evaluateSide(ruleSet.policies, ruleSet.defaults, side, now.getTime());
}

/** The object's tags on the outgoing side: the peer's tags with the `$port` pseudo-tag set from `port`. */
export function withPort(tags: readonly string[], port: string): string[] {
  return [...tags.filter((t) => !t.startsWith(`${PORT_TAG_KEY}=`)), portTag(port)];
}
