// Transparent mode: iptables `nat` REDIRECT rules that send the applications' own traffic to the
// agent's listeners, in two chains of our own so that installing is "flush and rebuild our chains" and
// removing is "unhook and delete them" — never an edit of someone else's rules.
//
//   PREROUTING → PALISADE-IN : tcp dport <protected port>          → REDIRECT <inbound listener port>
//   OUTPUT     → PALISADE-OUT: owner gid <agent group>             → RETURN (the agent's own sockets)
//                              tcp dst <service IP> dport <exposed> → REDIRECT <outbound listener port>
//
// Why a group and not a reserved source-port range: a port range makes every upstream dial pick and
// bind a port itself (EADDRINUSE retries, TIME_WAIT exhaustion at high connection rates — the very
// figure issue 7 benchmarks), while `-m owner --gid-owner` costs nothing per connection: the kernel
// stamps each socket with the creating process's fsgid. The agent runs with that group (systemd
// `Group=palisade`, or spawned with `gid`), and every socket it opens is exempt.
//
// Inbound rules hook PREROUTING only: they catch traffic arriving from other hosts. The agent's own
// forward to the application (127.0.0.1:<port>) goes through OUTPUT and is never caught; local clients
// of a local server are not redirected (they never leave the host).
//
// Why iptables and not nft: Debian's `iptables` is iptables-nft (nf_tables underneath), so the rules
// land in the same kernel machinery, and `iptables-restore --noflush` applies all our rules in one
// atomic transaction, leaving other tables and chains as they were.
import { execFile, execFileSync } from 'node:child_process';
import { isIPv4 } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type RedirectRulesErrorCode = 'redirect_port_invalid' | 'redirect_address_invalid' | 'redirect_gid_invalid' | 'redirect_apply_failed';

export class RedirectRulesError extends Error {
  constructor(
    readonly code: RedirectRulesErrorCode,
    /** The offending option, e.g. `outbound[0].ip`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'RedirectRulesError';
  }
}

export interface RedirectRulesOptions {
  /** Protected ports and the inbound listener each is sent to. */
  inbound: { port: number; listenerPort: number }[];
  /** Services' IPv4 addresses and exposed ports, and each one's outbound listener. */
  outbound: { ip: string; port: number; listenerPort: number }[];
  /** The agent's group: sockets created under it are never redirected. */
  excludeGid: number;
  /** Chain names are `<prefix>-IN` / `<prefix>-OUT`; default `PALISADE`. */
  chainPrefix?: string;
  /** Run every command inside this network namespace (`ip netns exec`): for labs and tests. */
  netns?: string;
}

function checkPort(v: unknown, field: string): void {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 65535) {
    throw new RedirectRulesError('redirect_port_invalid', field, `${field} must be an integer port 1-65535, got ${String(v)}`);
  }
}

export class RedirectRules {
  readonly inChain: string;
  readonly outChain: string;
  private readonly opts: RedirectRulesOptions;

  /** Validates everything up front: a bad option throws RedirectRulesError and nothing is applied. */
  constructor(opts: RedirectRulesOptions) {
    opts.inbound.forEach((r, i) => {
      checkPort(r.port, `inbound[${i}].port`);
      checkPort(r.listenerPort, `inbound[${i}].listenerPort`);
    });
    opts.outbound.forEach((r, i) => {
      if (!isIPv4(r.ip)) {
        throw new RedirectRulesError('redirect_address_invalid', `outbound[${i}].ip`, `outbound[${i}].ip must be an IPv4 address, got ${r.ip}`);
      }
      checkPort(r.port, `outbound[${i}].port`);
      checkPort(r.listenerPort, `outbound[${i}].listenerPort`);
    });
    if (!Number.isInteger(opts.excludeGid) || opts.excludeGid < 0) {
      throw new RedirectRulesError('redirect_gid_invalid', 'excludeGid', `excludeGid must be a non-negative integer, got ${String(opts.excludeGid)}`);
    }
    const prefix = opts.chainPrefix ?? 'PALISADE';
    this.inChain = `${prefix}-IN`;
    this.outChain = `${prefix}-OUT`;
    this.opts = { ...opts, inbound: [...opts.inbound], outbound: [...opts.outbound] };
  }

  /** The iptables-restore document that (re)builds our two chains' contents. */
  render(): string {
    const lines = ['*nat', `:${this.inChain} - [0:0]`, `:${this.outChain} - [0:0]`, `-F ${this.inChain}`, `-F ${this.outChain}`];
    for (const r of this.opts.inbound) {
      lines.push(`-A ${this.inChain} -p tcp -m tcp --dport ${r.port} -j REDIRECT --to-ports ${r.listenerPort}`);
    }
    // First in OUT: the agent's own connections (its upstream dials) leave untouched.
    lines.push(`-A ${this.outChain} -m owner --gid-owner ${this.opts.excludeGid} -j RETURN`);
    for (const r of this.opts.outbound) {
      lines.push(`-A ${this.outChain} -d ${r.ip}/32 -p tcp -m tcp --dport ${r.port} -j REDIRECT --to-ports ${r.listenerPort}`);
    }
    lines.push('COMMIT', '');
    return lines.join('\n');
  }

  /**
   * Installs (or replaces) the rules: our chains are created if missing, flushed and rebuilt in one
   * iptables-restore transaction, then hooked from PREROUTING/OUTPUT exactly once. Idempotent, and it
   * also repairs what a crashed agent left behind. Throws RedirectRulesError('redirect_apply_failed').
   */
  async install(): Promise<void> {
    try {
      await this.exec('iptables-restore', ['-w', '--noflush'], this.render());
      await this.hook('PREROUTING', this.inChain);
      await this.hook('OUTPUT', this.outChain);
    } catch (err) {
      throw new RedirectRulesError('redirect_apply_failed', 'iptables', `installing redirect rules failed: ${(err as Error).message.trim()}`);
    }
  }

  /** Unhooks and deletes our chains (every copy of a hook); a no-op when nothing is installed. */
  async remove(): Promise<void> {
    for (const [parent, chain] of [['PREROUTING', this.inChain], ['OUTPUT', this.outChain]] as const) {
      while (await this.ok(['-t', 'nat', '-C', parent, '-j', chain])) {
        await this.ok(['-t', 'nat', '-D', parent, '-j', chain]);
      }
      await this.ok(['-t', 'nat', '-F', chain]);
      await this.ok(['-t', 'nat', '-X', chain]);
    }
  }

  /** Synchronous `remove()`, for `process.on('exit')` where nothing asynchronous runs any more. */
  removeSync(): void {
    for (const [parent, chain] of [['PREROUTING', this.inChain], ['OUTPUT', this.outChain]] as const) {
      for (let i = 0; i < 16 && this.okSync(['-t', 'nat', '-D', parent, '-j', chain]); i++) {
        // deleting every copy of the hook
      }
      this.okSync(['-t', 'nat', '-F', chain]);
      this.okSync(['-t', 'nat', '-X', chain]);
    }
  }

  /**
   * Opt-in for the agent's main: removes the rules on exit, SIGINT and SIGTERM (then exits 130/143).
   * SIGKILL and crashes cannot be caught; `install()` at the next start repairs that.
   */
  removeOnExit(): () => void {
    const onExit = (): void => this.removeSync();
    const onSignal = (sig: NodeJS.Signals): void => {
      this.removeSync();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    };
    process.once('exit', onExit);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    return () => {
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  }

  private async hook(parent: string, chain: string): Promise<void> {
    if (!(await this.ok(['-t', 'nat', '-C', parent, '-j', chain]))) {
      await this.exec('iptables', ['-w', '-t', 'nat', '-I', parent, '1', '-j', chain]);
    }
  }

  private command(bin: string, args: string[]): [string, string[]] {
    return this.opts.netns ? ['ip', ['netns', 'exec', this.opts.netns, bin, ...args]] : [bin, args];
  }

  private async exec(bin: string, args: string[], input?: string): Promise<void> {
    const [cmd, argv] = this.command(bin, args);
    if (input === undefined) {
      await run(cmd, argv);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const child = execFile(cmd, argv, (err, _out, stderr) => (err ? reject(new Error(`${err.message} ${stderr}`)) : resolve()));
      child.stdin?.end(input);
    });
  }

  private async ok(args: string[]): Promise<boolean> {
    try {
      await this.exec('iptables', ['-w', ...args]);
      return true;
    } catch {
      return false;
    }
  }

  private okSync(args: string[]): boolean {
    const [cmd, argv] = this.command('iptables', ['-w', ...args]);
    try {
      execFileSync(cmd, argv, { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }
}
