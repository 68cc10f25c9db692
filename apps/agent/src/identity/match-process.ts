// Matching a socket's owning process against the agent's LinuxProcess rules (by user, executable,
// cgroup). One named predicate, as STYLE.md asks of security decisions: `processMatches`.
import { readFileSync } from 'node:fs';
import type { SocketOwner } from './socket-owner';

export interface ProcessRule {
  /** A uid, or a user name resolved through /etc/passwd. */
  user?: number | string;
  /** An absolute path, exact; or a prefix ending in '*' (`/usr/bin/*`). */
  exe?: string;
  /** A cgroup path: matches that cgroup and every cgroup below it (`/system.slice/app.service`). */
  cgroup?: string;
}

let passwd: { at: number; byName: Map<string, number> } | null = null;
const PASSWD_TTL_MS = 30_000;

/** Resolves a user name to its uid via /etc/passwd (cached briefly); undefined when unknown. */
export function uidOf(name: string): number | undefined {
  const now = Date.now();
  if (!passwd || now - passwd.at > PASSWD_TTL_MS) {
    const byName = new Map<string, number>();
    try {
      for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length >= 3 && f[0]) {
          byName.set(f[0], Number(f[2]));
        }
      }
    } catch {
      // No passwd file: only numeric users can match.
    }
    passwd = { at: now, byName };
  }
  return passwd.byName.get(name);
}

/**
 * True when `owner` satisfies every field `rule` sets (fields are ANDed). A rule that sets no field
 * matches nothing: a catch-all must be the caller's explicit default (the Host identity), never an
 * accident of an empty rule. An unknown user name matches nothing. A numeric-looking string user is a uid.
 */
export function processMatches(owner: SocketOwner, rule: ProcessRule): boolean {
  if (rule.user === undefined && rule.exe === undefined && rule.cgroup === undefined) {
    return false;
  }
  if (rule.user !== undefined) {
    const uid = typeof rule.user === 'number' ? rule.user : /^\d+$/.test(rule.user) ? Number(rule.user) : uidOf(rule.user);
    if (uid === undefined || uid !== owner.uid) {
      return false;
    }
  }
  if (rule.exe !== undefined) {
    if (owner.exe === null) {
      return false;
    }
    const ok = rule.exe.endsWith('*') ? owner.exe.startsWith(rule.exe.slice(0, -1)) : owner.exe === rule.exe;
    if (!ok) {
      return false;
    }
  }
  if (rule.cgroup !== undefined) {
    const want = rule.cgroup.replace(/\/+$/, '');
    if (!(owner.cgroup === want || owner.cgroup.startsWith(`${want}/`) || want === '')) {
      return false;
    }
  }
  return true;
}

/**
 * The first rule `owner` matches, in order (so the agent's config order states precedence), or null.
 * Generic so the caller's rules can carry their PU id and tags along.
 */
export function matchProcess<R extends ProcessRule>(owner: SocketOwner, rules: readonly R[]): R | null {
  for (const rule of rules) {
    if (processMatches(owner, rule)) {
      return rule;
    }
  }
  return null;
}
