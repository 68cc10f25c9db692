// SPIFFE-shaped identities (https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md):
// spiffe://<trust domain>/ns/<namespace path>/<kind>/<id>. We keep to the SPIFFE character rules (trust
// domain: lower-case letters, digits, '.', '-', '_'; path segments: letters, digits, '.', '-', '_', never
// '.' or '..') so that any SPIFFE-aware tool accepts our certificates.
import { PkiError } from './errors';

export type IdentityKind = 'agent' | 'pu' | 'server';
export const IDENTITY_KINDS: readonly IdentityKind[] = ['agent', 'pu', 'server'];

export interface Identity {
  trustDomain: string;
  /** Namespace path with its leading '/', e.g. '/acme/prod'. The root namespace '/' has no identity. */
  namespace: string;
  kind: IdentityKind;
  id: string;
}

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;
// 47 = 64 (X.520 upper bound of a CommonName) − "Palisade Root CA ".length: the root's CN carries it.
export const TRUST_DOMAIN_MAX = 47;
// The id is the leaf's CommonName, so it keeps to the same 64-character bound.
const ID_MAX = 64;

function isSegment(s: string): boolean {
  return SEGMENT.test(s) && s !== '.' && s !== '..';
}

/** Throws PkiError('trust_domain_malformed') unless `td` is a SPIFFE trust domain of at most 47 characters. */
export function assertTrustDomain(td: unknown, field = 'trustDomain'): asserts td is string {
  if (typeof td !== 'string' || td.length === 0 || td.length > TRUST_DOMAIN_MAX || !TRUST_DOMAIN.test(td)) {
    throw new PkiError(
      'trust_domain_malformed',
      `${field} must be 1-${TRUST_DOMAIN_MAX} characters of a-z 0-9 . - _`,
      field,
    );
  }
}

/** Validates an Identity; throws PkiError('identity_malformed' | 'trust_domain_malformed') naming the field. */
export function assertIdentity(i: unknown, field = 'identity'): asserts i is Identity {
  if (typeof i !== 'object' || i === null) {
    throw new PkiError('identity_malformed', `${field} must be an object`, field);
  }
  const o = i as Record<string, unknown>;
  assertTrustDomain(o.trustDomain, `${field}.trustDomain`);
  const ns = o.namespace;
  if (
    typeof ns !== 'string' ||
    !ns.startsWith('/') ||
    ns.length < 2 ||
    !ns.slice(1).split('/').every(isSegment)
  ) {
    throw new PkiError(
      'identity_malformed',
      `${field}.namespace must be a path like /a/b (segments of A-Z a-z 0-9 . - _)`,
      `${field}.namespace`,
    );
  }
  if (typeof o.kind !== 'string' || !IDENTITY_KINDS.includes(o.kind as IdentityKind)) {
    throw new PkiError(
      'identity_malformed',
      `${field}.kind must be one of ${IDENTITY_KINDS.join(', ')}`,
      `${field}.kind`,
    );
  }
  if (typeof o.id !== 'string' || o.id.length > ID_MAX || !isSegment(o.id)) {
    throw new PkiError(
      'identity_malformed',
      `${field}.id must be 1-${ID_MAX} characters of A-Z a-z 0-9 . - _`,
      `${field}.id`,
    );
  }
}

/**
 * The SPIFFE ID of an identity: `spiffe://<trustDomain>/ns/<namespace without its leading '/'>/<kind>/<id>`.
 * Throws PkiError('identity_malformed' | 'trust_domain_malformed') for an invalid identity.
 */
export function spiffeId(i: Identity): string {
  assertIdentity(i);
  return `spiffe://${i.trustDomain}/ns/${i.namespace.slice(1)}/${i.kind}/${i.id}`;
}

/**
 * Parses a SPIFFE ID written by spiffeId back into an Identity: the namespace is everything between `ns/` and
 * the last two segments. Throws PkiError('identity_malformed') for anything else.
 */
export function parseSpiffeId(uri: string, field = 'uri'): Identity {
  const m = /^spiffe:\/\/([^/]+)\/ns\/(.+)\/([^/]+)\/([^/]+)$/.exec(uri);
  if (!m) {
    throw new PkiError('identity_malformed', `${field} is not a Palisade SPIFFE ID`, field);
  }
  const identity = { trustDomain: m[1], namespace: `/${m[2]}`, kind: m[3] as IdentityKind, id: m[4] };
  try {
    assertIdentity(identity, field);
  } catch (e) {
    throw new PkiError('identity_malformed', e instanceof Error ? e.message : String(e), field);
  }
  return identity;
}
