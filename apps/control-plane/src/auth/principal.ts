import { createHash, randomBytes } from 'node:crypto';
import { isWithin } from '@palisade/policy';

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated API caller: an API token's role on a namespace subtree. */
export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
  /** The subtree root the token is scoped to. */
  namespace: string;
}

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** viewer < editor < admin: a role includes everything the roles below it may do. */
export function hasRole(p: Principal, needed: Role): boolean {
  return RANK[p.role] >= RANK[needed];
}

/**
 * The tenant-isolation predicate: a caller may see (and, with the role, change) an object exactly when the
 * object's namespace is the caller's namespace or lies below it. Everything else answers 404.
 */
export function canSee(p: Principal, namespace: string): boolean {
  return isWithin(namespace, p.namespace);
}

/** A new API token: `pal_` + 256 random bits, base64url. */
export function generateToken(): string {
  return `pal_${randomBytes(32).toString('base64url')}`;
}

/**
 * How tokens are stored: SHA-256, hex. A slow password hash (bcrypt, argon2) protects guessable secrets;
 * these tokens are 256 random bits, so a plain cryptographic hash already makes the stored value useless
 * to a thief, and it lets the guard find the token with one indexed lookup per request.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
