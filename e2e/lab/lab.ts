// The network-namespace lab: five hosts (cp, lb, server, client, rogue) on one switch, each host a network
// namespace, the switch a Linux bridge in a namespace of its own. See ../README.md for the picture and why.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './errors';
import {
  ipSync,
  labNamespaces,
  namespacePids,
  netnsEtcDirs,
  NETNS_ETC,
  recordedLivePids,
  recordPid,
  rootLinksOf,
  runtimeDirOf,
  teardownSync,
  type TeardownReport,
} from './netns';
import { runProcess, sleep, startProcess, type ExecResult, type LabProcess, type StartOptions } from './proc';
import {
  isLabHost,
  LAB_ADDRESSES,
  LAB_HOSTS,
  LAB_INTERFACE,
  LAB_PREFIX_LENGTH,
  PREFIX_PATTERN,
  renderHostsFile,
  type LabHost,
} from './topology';
import { startHaproxy, type HaproxyOptions } from './haproxy';
import { Capture, type CaptureOptions } from './capture';

/** Where a process runs: a lab host, or `root` — the machine's own namespace (for the Postgres bridge). */
export type Placement = LabHost | 'root';

/** Who a process runs as, and with what environment. uid/gid go through `setpriv --clear-groups`. */
export interface ProcessOptions extends StartOptions {
  uid?: number | string;
  gid?: number | string;
}

export interface LabOptions {
  /** Namespaces are `<prefix>-cp` … `<prefix>-rogue` and `<prefix>-sw`; [a-z][a-z0-9]{0,11}. */
  prefix: string;
  /** Make the machine's Postgres reachable at 127.0.0.1:<port> inside `cp` (default true, port 5432). */
  postgres?: boolean | { port?: number; hostPort?: number };
}

/** What is left of a lab on the machine; all empty/false after a successful destroy(). */
export interface Leftovers {
  namespaces: string[];
  netnsDirs: string[];
  runtimeDir: boolean;
  rootLinks: string[];
  recordedProcesses: number[];
}

const SWITCH = 'sw';
const BRIDGE = 'br0';
const FORWARDER = join(__dirname, 'forward.js');
const live = new Set<Lab>();

/**
 * Why the lab cannot run here, or null when it can: it needs Linux, root, and the tools of
 * e2e/install-deps.sh on PATH.
 */
export function labUnsupportedReason(
  tools: readonly string[] = ['ip', 'setpriv', 'haproxy', 'tshark'],
): string | null {
  if (process.platform !== 'linux') {
    return `the namespace lab needs Linux (this is ${process.platform})`;
  }
  if (process.getuid?.() !== 0) {
    return 'the namespace lab needs root (network namespaces, veths, /etc/netns)';
  }
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  return missing.length ? `missing tools: ${missing.join(', ')} (run e2e/install-deps.sh)` : null;
}

export class Lab {
  readonly runtimeDir: string;
  private readonly procs: LabProcess[] = [];
  private destroyed = false;
  private captures = 0;

  private constructor(readonly prefix: string) {
    this.runtimeDir = runtimeDirOf(prefix);
  }

  /**
   * Build the lab: namespaces, switch, veths, addresses, loopback, hosts files and (unless disabled) the
   * Postgres bridge into `cp`. Throws LabError `not_supported`, `prefix_invalid` or `lab_exists` and then
   * creates nothing; if a later step fails, everything created so far is removed before the error is thrown.
   */
  static async create(opts: LabOptions): Promise<Lab> {
    const reason = labUnsupportedReason(['ip', 'setpriv']);
    if (reason) {
      throw new LabError('not_supported', reason);
    }
    if (!PREFIX_PATTERN.test(opts.prefix)) {
      throw new LabError(
        'prefix_invalid',
        `prefix must match ${PREFIX_PATTERN}: ${JSON.stringify(opts.prefix)}`,
      );
    }
    const existing = labNamespaces(opts.prefix);
    if (existing.length || existsSync(runtimeDirOf(opts.prefix))) {
      throw new LabError(
        'lab_exists',
        `lab ${opts.prefix} exists (${existing.join(', ')}); run Lab.cleanupStale`,
      );
    }
    const lab = new Lab(opts.prefix);
    mkdirSync(lab.runtimeDir, { recursive: true, mode: 0o755 });
    live.add(lab);
    installSignalHandlers();
    try {
      lab.buildNetwork();
      const pg = opts.postgres ?? true;
      if (pg !== false) {
        const o = pg === true ? {} : pg;
        await lab.bridgePostgres(o.port ?? 5432, o.hostPort ?? 5432);
      }
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  /**
   * Remove whatever a crashed earlier run with this prefix left: its recorded processes, processes inside
   * its namespaces, the namespaces, /etc/netns dirs and runtime directory. A no-op when nothing is left.
   */
  static cleanupStale(prefix: string): TeardownReport {
    if (!PREFIX_PATTERN.test(prefix)) {
      throw new LabError('prefix_invalid', `prefix must match ${PREFIX_PATTERN}: ${JSON.stringify(prefix)}`);
    }
    return teardownSync(prefix);
  }

  /** What of lab `prefix` exists on the machine right now (for asserting a clean teardown). */
  static leftovers(prefix: string): Leftovers {
    return {
      namespaces: labNamespaces(prefix),
      netnsDirs: netnsEtcDirs(prefix),
      runtimeDir: existsSync(runtimeDirOf(prefix)),
      rootLinks: rootLinksOf(prefix),
      recordedProcesses: recordedLivePids(prefix),
    };
  }

  /** The network namespace of `host` (`<prefix>-<host>`). */
  namespace(host: LabHost): string {
    this.checkHost(host);
    return `${this.prefix}-${host}`;
  }

  /** The address of `host` on the lab network. */
  address(host: LabHost): string {
    this.checkHost(host);
    return LAB_ADDRESSES[host];
  }

  /** Every process the lab has started, running or ended, in start order. */
  get processes(): readonly LabProcess[] {
    return this.procs;
  }

  /**
   * Start `argv` in `host` (via `ip netns exec`, so it sees the host's network and hosts file), as
   * `uid`/`gid` when given, in its own process group. The lab tracks it and kills it on destroy().
   */
  spawn(host: Placement, argv: readonly string[], opts: ProcessOptions = {}): LabProcess {
    if (this.destroyed) {
      throw new LabError('lab_destroyed', `lab ${this.prefix} is destroyed`);
    }
    const p = startProcess(host, this.wrap(host, argv, opts), opts);
    this.procs.push(p);
    recordPid(this.prefix, p.pid);
    return p;
  }

  /** Run `argv` in `host` to completion (see spawn) and return its output and exit status; never throws on exit code. */
  async exec(
    host: Placement,
    argv: readonly string[],
    opts: ProcessOptions & { input?: string; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    if (this.destroyed) {
      throw new LabError('lab_destroyed', `lab ${this.prefix} is destroyed`);
    }
    return runProcess(host, this.wrap(host, argv, opts), opts);
  }

  /**
   * Resolve once something in `host` listens on TCP `port` (any address). Reads /proc/net/tcp{,6} of the
   * namespace; rejects with `process_exited` if `process` (the one expected to listen) ends, `timeout` after
   * `timeoutMs`.
   */
  async waitForListen(
    host: LabHost,
    port: number,
    opts: { process?: LabProcess; timeoutMs?: number } = {},
  ): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    for (;;) {
      const r = await this.exec(host, ['cat', '/proc/net/tcp', '/proc/net/tcp6']);
      // Columns: sl local_address rem_address st …; local_address is ADDR:PORT in hex, state 0A is LISTEN.
      const listening = r.stdout.split('\n').some((line) => {
        const f = line.trim().split(/\s+/);
        return f[3] === '0A' && f[1]?.endsWith(`:${hex}`);
      });
      if (listening) {
        return;
      }
      if (opts.process?.exitStatus) {
        throw new LabError('process_exited', `${opts.process.describe()} exited before listening on ${port}`);
      }
      if (Date.now() > deadline) {
        throw new LabError('timeout', `nothing listened on ${host}:${port} in time`);
      }
      await sleep(50);
    }
  }

  /** Run HAProxy (`mode tcp`) in `lb`; see haproxy.ts. Resolves once it listens. */
  startHaproxy(opts: HaproxyOptions = {}): Promise<LabProcess> {
    return startHaproxy(this, opts);
  }

  /** Start a tshark capture in `host`; resolves once tshark reports that capturing has started. */
  capture(host: LabHost, opts: CaptureOptions = {}): Promise<Capture> {
    const file = opts.file ?? join(this.runtimeDir, 'captures', `${host}-${++this.captures}.pcapng`);
    mkdirSync(join(this.runtimeDir, 'captures'), { recursive: true });
    return Capture.start(this, host, { ...opts, file });
  }

  /**
   * Stop every process the lab started (SIGTERM to its group, SIGKILL after a grace), kill anything else in
   * its namespaces, delete the namespaces, /etc/netns dirs and runtime directory. Idempotent.
   */
  async destroy(): Promise<TeardownReport> {
    this.destroyed = true;
    // Ask politely and wait without blocking the event loop (tshark must get to flush its file) …
    await Promise.all(this.procs.map((p) => p.stop()));
    return this.destroySync();
  }

  /** The synchronous part of destroy(), also what the signal handler runs. */
  destroySync(): TeardownReport {
    this.destroyed = true;
    live.delete(this);
    const report = teardownSync(
      this.prefix,
      this.procs.map((p) => p.pid),
    );
    if (live.size === 0) {
      removeSignalHandlers();
    }
    return report;
  }

  /** Pids of everything running inside the lab's namespaces now (for tests asserting a clean teardown). */
  namespacePids(): number[] {
    return [...LAB_HOSTS.map((h) => this.namespace(h)), `${this.prefix}-${SWITCH}`].flatMap(namespacePids);
  }

  private wrap(host: Placement, argv: readonly string[], opts: ProcessOptions): string[] {
    if (host !== 'root') {
      this.checkHost(host);
    }
    const ns = host === 'root' ? [] : ['ip', 'netns', 'exec', this.namespace(host)];
    const user =
      opts.uid === undefined && opts.gid === undefined
        ? []
        : [
            'setpriv',
            `--reuid=${opts.uid ?? 0}`,
            `--regid=${opts.gid ?? opts.uid ?? 0}`,
            '--clear-groups',
            '--',
          ];
    return [...ns, ...user, ...argv];
  }

  private checkHost(host: string): asserts host is LabHost {
    if (!isLabHost(host)) {
      throw new LabError(
        'host_unknown',
        `unknown lab host ${JSON.stringify(host)} (one of ${LAB_HOSTS.join(', ')})`,
      );
    }
  }

  private buildNetwork(): void {
    const sw = `${this.prefix}-${SWITCH}`;
    for (const ns of [sw, ...LAB_HOSTS.map((h) => this.namespace(h))]) {
      ipSync(['netns', 'add', ns]);
      // No IPv6 on the lab links (new interfaces inherit `default`): no router solicitations or MLD reports
      // in captures. Loopback keeps ::1, so programs that bind '::' still work.
      const r = spawnSync('ip', [
        'netns',
        'exec',
        ns,
        'sysctl',
        '-q',
        '-w',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
      if (r.status !== 0) {
        throw new LabError('command_failed', `sysctl in ${ns}: ${r.stderr.toString().trim()}`);
      }
      ipSync(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    ipSync(['-n', sw, 'link', 'add', BRIDGE, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
    ipSync(['-n', sw, 'link', 'set', BRIDGE, 'up']);
    for (const h of LAB_HOSTS) {
      const ns = this.namespace(h);
      // Both ends are created where they live, so nothing ever appears in the root namespace.
      ipSync(['-n', sw, 'link', 'add', h, 'type', 'veth', 'peer', 'name', LAB_INTERFACE, 'netns', ns]);
      ipSync(['-n', sw, 'link', 'set', h, 'master', BRIDGE, 'up']);
      ipSync(['-n', ns, 'addr', 'add', `${LAB_ADDRESSES[h]}/${LAB_PREFIX_LENGTH}`, 'dev', LAB_INTERFACE]);
      ipSync(['-n', ns, 'link', 'set', LAB_INTERFACE, 'up']);
      const etc = join(NETNS_ETC, ns);
      mkdirSync(etc, { recursive: true, mode: 0o755 });
      writeFileSync(join(etc, 'hosts'), renderHostsFile(h), { mode: 0o644 });
    }
  }

  /**
   * Postgres listens on the machine's loopback, which no other namespace can reach. Two byte-for-byte
   * forwarders join them through a Unix socket (a file, so visible from every network namespace): one in the
   * root namespace (socket → 127.0.0.1:hostPort), one in `cp` (127.0.0.1:port → socket).
   */
  private async bridgePostgres(port: number, hostPort: number): Promise<void> {
    const sock = join(this.runtimeDir, 'postgres.sock');
    const node = process.execPath;
    const outer = this.spawn('root', [
      node,
      FORWARDER,
      '--listen',
      `unix:${sock}`,
      '--connect',
      `tcp:127.0.0.1:${hostPort}`,
    ]);
    await outer.waitForOutput(/^forwarding /m);
    const inner = this.spawn('cp', [
      node,
      FORWARDER,
      '--listen',
      `tcp:127.0.0.1:${port}`,
      '--connect',
      `unix:${sock}`,
    ]);
    await inner.waitForOutput(/^forwarding /m);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  for (const lab of [...live]) {
    try {
      lab.destroySync();
    } catch (err) {
      console.error(`lab: cleanup of ${lab.prefix} on ${signal} failed: ${(err as Error).message}`);
    }
  }
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function onExit(): void {
  for (const lab of [...live]) {
    lab.destroySync();
  }
}

let handlersInstalled = false;
function installSignalHandlers(): void {
  if (!handlersInstalled) {
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal).on('exit', onExit);
    handlersInstalled = true;
  }
}
function removeSignalHandlers(): void {
  if (handlersInstalled) {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal).off('exit', onExit);
    handlersInstalled = false;
  }
}
