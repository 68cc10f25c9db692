// Which local process owns the client end of a connection the agent accepted: the socket inode from
// /proc/net/tcp(6), then the process holding `socket:[inode]` among /proc/<pid>/fd, then its uid, gid,
// executable and cgroup. This is what lets transparent mode attribute an application's flow to a
// LinuxProcess PU without any change to the application (the approach of OpenSnitch and of `ss -p`).
//
// Cost: a full /proc scan reads every fd link of every process. Two caches keep it off the hot path:
// inode → pid answers (every socket of a scanned process is remembered, briefly), and a short list of
// pids that owned recent flows, searched before any full scan (a client that opens one flow tends to
// open many).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { RECENT_OWNER_PIDS, SOCKET_OWNER_CACHE_MAX, SOCKET_OWNER_CACHE_TTL_MS } from '../datapath/limits';
import { findProcSocket } from './proc-net';

export interface SocketOwner {
  pid: number;
  uid: number;
  gid: number;
  /** readlink(/proc/pid/exe); null when the kernel does not tell us (a kernel thread, no permission). */
  exe: string | null;
  /** The cgroup v2 path (`0::/…`), or the first hierarchy's path on cgroup v1. */
  cgroup: string;
}

export interface SocketOwnerStats {
  lookups: number;
  cacheHits: number;
  recentHits: number;
  fullScans: number;
}

const stats: SocketOwnerStats = { lookups: 0, cacheHits: 0, recentHits: 0, fullScans: 0 };
const inodeCache = new Map<number, { pid: number; at: number }>();
const recentPids: number[] = [];

/** Counters of the lookup paths taken (for metrics, and so tests can see the caches work). */
export function socketOwnerStats(): Readonly<SocketOwnerStats> {
  return { ...stats };
}

/**
 * The owner of the TCP socket whose own local endpoint is `localAddr:localPort` — from the agent's side
 * that is the accepted socket's remoteAddress/remotePort — and, preferably, whose remote endpoint is
 * `remoteAddr:remotePort` (the agent's localAddress/localPort in explicit mode; in transparent mode the
 * client's socket still names the original destination, so a match on the local endpoint alone is
 * taken). IPv4-mapped addresses ('::ffff:a.b.c.d') are handled. Returns null when no socket or no
 * process matches (the client already went away, or lives in another network namespace). The agent's
 * own process is never searched: its connections are never a PU's. Synchronous; reads /proc only.
 */
export function findSocketOwner(localAddr: string, localPort: number, remoteAddr: string, remotePort: number): SocketOwner | null {
  stats.lookups++;
  const sock = findProcSocket({ addr: localAddr, port: localPort }, remotePort > 0 ? { addr: remoteAddr, port: remotePort } : null);
  if (!sock) {
    return null;
  }
  const pid = pidOfInode(sock.inode);
  if (pid === null) {
    return null;
  }
  return describe(pid);
}

/** Convenience: the owner of the client end of a socket the agent accepted. */
export function ownerOfAcceptedSocket(s: { remoteAddress?: string; remotePort?: number; localAddress?: string; localPort?: number }): SocketOwner | null {
  if (!s.remoteAddress || !s.remotePort) {
    return null;
  }
  return findSocketOwner(s.remoteAddress, s.remotePort, s.localAddress ?? '', s.localPort ?? 0);
}

function pidOfInode(inode: number): number | null {
  const now = Date.now();
  const cached = inodeCache.get(inode);
  // Socket inodes come from a global counter (get_next_ino), so an answer seconds old cannot name a
  // different socket; the TTL only bounds how stale the map may get.
  if (cached && now - cached.at <= SOCKET_OWNER_CACHE_TTL_MS) {
    stats.cacheHits++;
    return cached.pid;
  }
  for (const pid of recentPids) {
    if (scanPid(pid, inode, now)) {
      stats.recentHits++;
      remember(pid);
      return pid;
    }
  }
  stats.fullScans++;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid || recentPids.includes(pid)) {
      continue;
    }
    if (scanPid(pid, inode, now)) {
      remember(pid);
      return pid;
    }
  }
  return null;
}

/** Reads the fd links of `pid`, caching every socket inode seen; true when `inode` is among them. */
function scanPid(pid: number, inode: number, now: number): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false; // exited, or not ours to read
  }
  const want = `socket:[${inode}]`;
  let found = false;
  for (const fd of fds) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    if (link.startsWith('socket:[')) {
      inodeCache.set(Number(link.slice(8, -1)), { pid, at: now });
      if (link === want) {
        found = true;
      }
    }
  }
  trimCache();
  return found;
}

function remember(pid: number): void {
  const i = recentPids.indexOf(pid);
  if (i !== -1) {
    recentPids.splice(i, 1);
  }
  recentPids.unshift(pid);
  recentPids.length = Math.min(recentPids.length, RECENT_OWNER_PIDS);
}

function trimCache(): void {
  if (inodeCache.size <= SOCKET_OWNER_CACHE_MAX) {
    return;
  }
  const now = Date.now();
  for (const [k, v] of inodeCache) {
    if (now - v.at > SOCKET_OWNER_CACHE_TTL_MS || inodeCache.size > SOCKET_OWNER_CACHE_MAX) {
      inodeCache.delete(k);
    }
  }
}

function describe(pid: number): SocketOwner | null {
  let status: string;
  let cgroupText: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
    cgroupText = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return null;
  }
  // "Uid:\treal\teffective\tsaved\tfs": policy is about whom the process acts as, the effective ids.
  const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  const gid = Number(/^Gid:\s+\d+\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  let exe: string | null = null;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    exe = null;
  }
  const lines = cgroupText.split('\n').filter(Boolean);
  const v2 = lines.find((l) => l.startsWith('0::'));
  const line = v2 ?? lines[0] ?? '';
  const cgroup = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
  return { pid, uid, gid, exe, cgroup };
}
