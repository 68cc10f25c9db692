// Child processes of the loopback scenario: started with their output captured, stopped as a group.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';

export class Proc {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(
    readonly name: string,
    argv: string[],
    env: NodeJS.ProcessEnv = {},
    /** Also append everything the process prints to this file (the demo keeps one log per process). */
    logFile?: string,
  ) {
    this.child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const log: WriteStream | null = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
    // Keep only the tail in memory: a long-running demo must not grow without bound.
    const keep = (s: string) => (s.length > 1_000_000 ? s.slice(-500_000) : s);
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout = keep(this.stdout + d.toString('utf8'));
      log?.write(d);
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = keep(this.stderr + d.toString('utf8'));
      log?.write(d);
    });
    this.child.on('exit', () => log?.end());
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when `re` appears on stdout or stderr; rejects if the process exits first or time runs out. */
  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.stdout) && !re.test(this.stderr)) {
      if (!this.running) {
        throw new Error(`${this.name} exited before ${re}: ${this.stderr.slice(-2000)}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: no ${re} within ${timeoutMs} ms: ${this.stderr.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) {
      return;
    }
    try {
      process.kill(-this.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    await this.exited;
    clearTimeout(t);
  }
}
