// Processes the lab starts: each in its own process group (so a kill reaches its children too — tshark's
// dumpcap, a shell's pipeline), with its output kept for assertions and for the failure message.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LabError } from './errors';

/** How a process ended: exactly one of `code` and `signal` is non-null. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Everything a finished command printed, and how it ended. */
export interface ExecResult extends ExitStatus {
  stdout: string;
  stderr: string;
  /** True when the lab killed it because `timeoutMs` passed. */
  timedOut: boolean;
}

/** Keep at most this much of each stream: a chatty process must not grow the test's heap without bound. */
const MAX_OUTPUT = 1 << 20;

/** Grace between SIGTERM and SIGKILL when stopping a process group. */
export const STOP_GRACE_MS = 2000;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The start time of a pid (field 22 of /proc/<pid>/stat, in clock ticks since boot), or null when no such
 * process exists. Together with the pid it identifies a process for good: pids are reused, start times are
 * not, so a stale-cleanup never kills an unrelated process that happens to have an old pid.
 */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null;
  } catch {
    return null;
  }
}

/** Is the process alive (not gone and not a zombie waiting to be reaped)? */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Signal a whole process group; a group that is already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') {
      throw err;
    }
  }
}

/**
 * A process the lab started. Its output accumulates in `stdout`/`stderr`; `exited` resolves once it has
 * ended (it never rejects). `kill` and `stop` act on its whole process group.
 */
export class LabProcess {
  stdout = '';
  stderr = '';
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  private status: ExitStatus | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly host: string,
    readonly argv: readonly string[],
    private readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) {
      throw new LabError('command_failed', `could not start ${argv.join(' ')}`);
    }
    this.pid = child.pid;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.append('stdout', d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.append('stderr', d));
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.status = { code, signal };
        this.notify();
        resolve(this.status);
      });
    });
  }

  /** How it ended, or null while it runs. */
  get exitStatus(): ExitStatus | null {
    return this.status;
  }

  /** Write to its stdin (when it was started with `stdin: 'pipe'`). */
  write(data: string): void {
    this.child.stdin?.write(data);
  }

  /** Close its stdin. */
  endInput(): void {
    this.child.stdin?.end();
  }

  /** Send `signal` to its process group. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.status === null) {
      killGroup(this.pid, signal);
    }
  }

  /** SIGTERM the group, SIGKILL it after `graceMs`, and resolve when the process has ended. */
  async stop(graceMs = STOP_GRACE_MS, signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    if (this.status) {
      return this.status;
    }
    this.kill(signal);
    const timer = setTimeout(() => killGroup(this.pid, 'SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Resolve with the first match of `pattern` in its output (stdout, stderr or both, as printed so far or
   * later). Rejects with LabError `process_exited` if it ends first, `timeout` after `timeoutMs`.
   */
  waitForOutput(
    pattern: RegExp,
    opts: { stream?: 'stdout' | 'stderr' | 'both'; timeoutMs?: number } = {},
  ): Promise<RegExpMatchArray> {
    const stream = opts.stream ?? 'both';
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const text = (): string =>
      stream === 'stdout'
        ? this.stdout
        : stream === 'stderr'
          ? this.stderr
          : `${this.stdout}\n${this.stderr}`;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const m = text().match(pattern);
        if (m) {
          done();
          resolve(m);
        } else if (this.status) {
          done();
          reject(new LabError('process_exited', `${this.describe()} exited before printing ${pattern}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new LabError('timeout', `${this.describe()} did not print ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** One line naming the process and the end of its output: what a failure message needs. */
  describe(): string {
    const how = this.status ? ` (exit ${this.status.code ?? this.status.signal})` : '';
    const tail = (s: string): string => s.trim().split('\n').slice(-5).join(' | ');
    return `[${this.host}] ${this.argv.join(' ')}${how}; stdout: ${tail(this.stdout)}; stderr: ${tail(this.stderr)}`;
  }

  private append(which: 'stdout' | 'stderr', data: string): void {
    const next = this[which] + data;
    this[which] = next.length > MAX_OUTPUT ? next.slice(-MAX_OUTPUT) : next;
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) {
      l();
    }
  }
}

/** Options for starting a process: its environment (merged over ours unless `replaceEnv`), cwd, stdin. */
export interface StartOptions {
  env?: Record<string, string | undefined>;
  replaceEnv?: boolean;
  cwd?: string;
  stdin?: 'pipe' | 'ignore';
}

/** Start `argv` as the leader of a new process group. */
export function startProcess(host: string, argv: readonly string[], opts: StartOptions = {}): LabProcess {
  const env = opts.replaceEnv ? { ...opts.env } : { ...process.env, ...opts.env };
  const child = spawn(argv[0], argv.slice(1), {
    cwd: opts.cwd,
    env,
    detached: true, // own process group: killGroup(-pid) reaches everything it forks
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  // A spawn failure (ENOENT) surfaces as 'error' and then 'close'; keep it from becoming an uncaught error.
  child.on('error', () => undefined);
  return new LabProcess(host, argv, child);
}

/** Run `argv` to completion (or until `timeoutMs`, then its group is killed) and collect its output. */
export async function runProcess(
  host: string,
  argv: readonly string[],
  opts: StartOptions & { input?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const p = startProcess(host, argv, { ...opts, stdin: opts.input === undefined ? 'ignore' : 'pipe' });
  if (opts.input !== undefined) {
    p.write(opts.input);
    p.endInput();
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(p.pid, 'SIGKILL');
  }, opts.timeoutMs ?? 30_000);
  const status = await p.exited;
  clearTimeout(timer);
  return { ...status, stdout: p.stdout, stderr: p.stderr, timedOut };
}
