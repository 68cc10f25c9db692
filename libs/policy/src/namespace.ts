import { PolicyError } from './errors';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * Validates a namespace path: `/` (the root) or `/seg/seg…` with segments of letters, digits, `_ . -`
 * (not starting with `_ . -`), no trailing slash. Returns it unchanged; throws `namespace_malformed`.
 */
export function validateNamespace(path: unknown, field = 'namespace'): string {
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 512) {
    throw new PolicyError('namespace_malformed', field, 'must be a path like /acme/prod');
  }
  if (path !== '/' && !path.slice(1).split('/').every((s) => SEGMENT.test(s))) {
    throw new PolicyError('namespace_malformed', field, `"${path}" is not a valid namespace path`);
  }
  return path;
}

/** True when `ns` is `ancestor` itself or lies below it (`/a` contains `/a/b`, not `/ab`). */
export function isWithin(ns: string, ancestor: string): boolean {
  if (ns === ancestor || ancestor === '/') {
    return true;
  }
  return ns.length > ancestor.length && ns.startsWith(ancestor) && ns.charCodeAt(ancestor.length) === 47;
}

/**
 * Whether an object (policy, service) written in `ownerNs` applies in `ns` (README rule 3): in its own
 * namespace always, in descendants only with `propagate`, never in siblings or parents.
 */
export function appliesIn(ownerNs: string, propagate: boolean, ns: string): boolean {
  return ownerNs === ns || (propagate && ns !== ownerNs && isWithin(ns, ownerNs));
}
