// The synchronous teardown primitives the lab shares between Lab.destroy(), the SIGINT/SIGTERM handler
// (which cannot await) and Lab.cleanupStale() after a crashed run. Synchronous on purpose: a signal handler
// that awaits can be cut short by the process exiting, and then the leftovers are exactly what it was
// supposed to remove.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './errors';
import { isAlive, killGroup, processStartTime, STOP_GRACE_MS } from './proc';

/** Where each lab keeps its configs, pid records, sockets and captures; removed by destroy(). */
export const RUNTIME_ROOT = '/run/palisade-lab';
/** `ip netns exec` bind-mounts files under /etc/netns/<ns>/ over /etc/<file> for what it runs. */
export const NETNS_ETC = '/etc/netns';

export const runtimeDirOf = (prefix: string): string => join(RUNTIME_ROOT, prefix);
const pidFileOf = (prefix: string): string => join(runtimeDirOf(prefix), 'pids');

/** Run `ip ARGS` and return its stdout; throws LabError `command_failed` with ip's message on failure. */
export function ipSync(args: readonly string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new LabError(
      'command_failed',
      `ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`,
    );
  }
  return r.stdout;
}

/** Names of the network namespaces that belong to the lab `prefix` (`<prefix>-<anything>`). */
export function labNamespaces(prefix: string): string[] {
  return ipSync(['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(`${prefix}-`));
}

/** Pids of every process whose network namespace is `ns` (an empty list when there is no such ns). */
export function namespacePids(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split(/\s+/).filter(Boolean).map(Number) : [];
}

/** Remember a started process (pid + start time) so a later cleanupStale can kill it, and only it. */
export function recordPid(prefix: string, pid: number): void {
  const start = processStartTime(pid);
  if (start !== null) {
    appendFileSync(pidFileOf(prefix), `${pid} ${start}\n`);
  }
}

/** Recorded pids that still name the very process the lab started. */
export function recordedLivePids(prefix: string): number[] {
  let text = '';
  try {
    text = readFileSync(pidFileOf(prefix), 'utf8');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const [pid, start] = line.split(' ');
    if (pid && processStartTime(Number(pid)) === start && isAlive(Number(pid))) {
      out.push(Number(pid));
    }
  }
  return out;
}

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** SIGTERM each group, wait up to `graceMs` for them to go, then SIGKILL whatever is left. */
export function stopGroupsSync(pids: readonly number[], graceMs = STOP_GRACE_MS): void {
  const alive = (): number[] => pids.filter(isAlive);
  for (const pid of alive()) {
    killGroup(pid, 'SIGTERM');
  }
  for (let waited = 0; alive().length > 0 && waited < graceMs; waited += 20) {
    sleepSync(20);
  }
  for (const pid of alive()) {
    killGroup(pid, 'SIGKILL');
    // A process that left our group (setsid) is still ours to end.
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** What a teardown removed. */
export interface TeardownReport {
  namespaces: string[];
  killed: number[];
  files: string[];
}

/**
 * Remove everything of lab `prefix`: stop the given (tracked) process groups and every recorded process,
 * kill whatever else still runs inside its namespaces, delete the namespaces (which deletes their veths and
 * the bridge), /etc/netns/<prefix>-*, and the runtime directory. Safe to call any number of times.
 */
export function teardownSync(prefix: string, tracked: readonly number[] = []): TeardownReport {
  const report: TeardownReport = { namespaces: [], killed: [], files: [] };
  const recorded = recordedLivePids(prefix);
  const groups = [...new Set([...tracked, ...recorded])].filter(isAlive);
  stopGroupsSync(groups);
  report.killed.push(...groups);
  const namespaces = existsSync('/run/netns') ? labNamespaces(prefix) : [];
  for (const ns of namespaces) {
    // Anything still inside (started by hand, or escaped its group) would keep the namespace alive.
    const stray = namespacePids(ns);
    stopGroupsSync(stray, 200);
    report.killed.push(...stray);
  }
  for (const ns of namespaces) {
    ipSync(['netns', 'del', ns]);
    report.namespaces.push(ns);
  }
  for (const dir of netnsEtcDirs(prefix)) {
    rmSync(dir, { recursive: true, force: true });
    report.files.push(dir);
  }
  const runtime = runtimeDirOf(prefix);
  if (existsSync(runtime)) {
    rmSync(runtime, { recursive: true, force: true });
    report.files.push(runtime);
  }
  // The parents were created for the lab; leave them only if something else lives there.
  for (const parent of [NETNS_ETC, RUNTIME_ROOT]) {
    try {
      rmdirSync(parent);
    } catch {
      /* not empty or not there */
    }
  }
  return report;
}

/** /etc/netns/<prefix>-* directories that exist now. */
export function netnsEtcDirs(prefix: string): string[] {
  try {
    return readdirSync(NETNS_ETC)
      .filter((n) => n.startsWith(`${prefix}-`))
      .map((n) => join(NETNS_ETC, n));
  } catch {
    return [];
  }
}

/** Links in the root namespace whose name mentions the prefix (the lab creates none; a check for leaks). */
export function rootLinksOf(prefix: string): string[] {
  return ipSync(['-o', 'link', 'show'])
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
    .filter((n) => n.includes(prefix));
}
