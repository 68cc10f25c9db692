import { PolicyError } from './errors';
import type { RuleSet, ServiceDef } from './model';
import { appliesIn } from './namespace';
import { compileSelector, clauseHolds, type Term } from './selector';
import { sortUnique } from './tags';

const parsed = new WeakMap<ServiceDef, Term[][]>();

function selectorsOf(s: ServiceDef): Term[][] {
  let t = parsed.get(s);
  if (!t) {
    t = compileSelector(s.selectors);
    parsed.set(s, t);
  }
  return t;
}

/** The value of the `$namespace` tag, or null. */
export function namespaceOf(tags: readonly string[]): string | null {
  for (const t of tags) {
    if (t.startsWith('$namespace=')) {
      return t.slice('$namespace='.length);
    }
  }
  return null;
}

/**
 * True when a PU with these effective tags (e.g. read from a server certificate the CA signed) is one the
 * service picks: its `$namespace` is in the service's scope (the service's own namespace, or below it when
 * the service propagates — README rule 3) and some clause of `selectors` holds. The client's agent calls
 * this after the TLS handshake so that a load balancer cannot hand it to a different server.
 */
export function serviceSelects(service: ServiceDef, tags: readonly string[]): boolean {
  const ns = namespaceOf(tags);
  if (ns === null || !appliesIn(service.namespace, service.propagate ?? false, ns)) {
    return false;
  }
  return selectorsOf(service).some((c) => clauseHolds(c, tags));
}

/**
 * The associatedTags of every service that selects a PU with `puTagsList` in namespace `ns` and whose
 * `port` equals the concrete `port` (README rule 7): those tags belong to the object for flows on that
 * port, whether they came through the load balancer or straight at the server (the server's agent cannot
 * tell the two apart, and refusing a direct flow that policy allows through the service would be wrong
 * in neither direction — the same policy decides both).
 */
export function serviceTagsAt(
  services: readonly ServiceDef[],
  puTagsList: readonly string[],
  port: string,
): string[] {
  const out: string[] = [];
  for (const s of services) {
    if (`tcp/${s.port}` === port && serviceSelects(s, puTagsList)) {
      out.push(...s.associatedTags);
    }
  }
  return out;
}

/**
 * Tags the client's agent evaluates as the object before it connects through service `serviceId`
 * (README rule 7): the service's associatedTags plus every exact term common to all clauses of its
 * selectors (any PU the service selects carries them, and the agent verifies that after the handshake
 * with serviceSelects). The port pseudo-tag is added by decide from its `port` argument (`tcp/<port>`).
 * Throws `unknown_service` when the rule set has no such service.
 */
export function objectTagsForService(ruleSet: RuleSet, serviceId: string): string[] {
  const s = ruleSet.services.find((x) => x.id === serviceId);
  if (!s) {
    throw new PolicyError('unknown_service', 'serviceId', `no service "${serviceId}" in this rule set`);
  }
  return serviceObjectTags(s);
}

/** See objectTagsForService; takes the service itself. */
export function serviceObjectTags(s: ServiceDef): string[] {
  const clauses = selectorsOf(s);
  let common: string[] | null = null;
  for (const c of clauses) {
    const exact = c.filter((t) => !t.prefix && !t.negate).map((t) => t.needle);
    common = common === null ? exact : common.filter((t) => exact.includes(t));
  }
  return sortUnique([...s.associatedTags, ...(common ?? [])]);
}
