// Helpers that run the lab's "unmodified" test applications (../apps) in a lab host and read their output.
import { join } from 'node:path';
import type { Lab, Placement, ProcessOptions } from './lab';
import type { ExecResult, LabProcess } from './proc';

/** Compiled entry points of the test applications. */
export const ECHO_SERVER = join(__dirname, '..', 'apps', 'echo-server.js');
export const LINE_CLIENT = join(__dirname, '..', 'apps', 'line-client.js');

export interface EchoServerOptions extends ProcessOptions {
  port: number;
  bind?: string;
  tls?: { cert: string; key: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' };
}

/** Start echo-server in `host` and resolve once it prints "listening". The lab tracks and stops it. */
export async function startEchoServer(lab: Lab, host: Placement, o: EchoServerOptions): Promise<LabProcess> {
  const argv = [process.execPath, ECHO_SERVER, '--port', String(o.port), '--host', o.bind ?? '0.0.0.0'];
  if (o.tls) {
    argv.push('--tls-cert', o.tls.cert, '--tls-key', o.tls.key, '--tls-max', o.tls.maxVersion ?? 'TLSv1.3');
  }
  const p = lab.spawn(host, argv, o);
  await p.waitForOutput(/^listening /m);
  return p;
}

export type ClientOutcome =
  | 'ok'
  | 'refused'
  | 'reset'
  | 'timeout'
  | 'closed'
  | 'error'
  | 'closed-by-peer'
  | 'reset-by-peer'
  | 'still-open';

export interface LineClientOptions extends ProcessOptions {
  /** Where to connect: an address or a name the host's hosts file resolves. */
  to: string;
  port: number;
  lines?: string[];
  timeoutMs?: number;
  hold?: boolean;
  tls?: { ca: string; servername?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' };
}

/** What a line-client run showed: its last "result" line, the replies it got, and the raw output. */
export interface ClientResult extends ExecResult {
  outcome: ClientOutcome | null;
  detail: string;
  replies: string[];
}

/** The argv of a line-client run (for lab.spawn when it must be held open). */
export function lineClientArgv(o: LineClientOptions): string[] {
  const argv = [process.execPath, LINE_CLIENT, '--host', o.to, '--port', String(o.port)];
  for (const l of o.lines ?? []) {
    argv.push('--line', l);
  }
  if (o.timeoutMs !== undefined) {
    argv.push('--timeout', String(o.timeoutMs));
  }
  if (o.hold) {
    argv.push('--hold');
  }
  if (o.tls) {
    argv.push('--tls', '--ca', o.tls.ca, '--tls-max', o.tls.maxVersion ?? 'TLSv1.3');
    if (o.tls.servername) {
      argv.push('--servername', o.tls.servername);
    }
  }
  return argv;
}

/** Parse line-client's output (stdout so far) into its outcome and replies. */
export function parseClientOutput(stdout: string): {
  outcome: ClientOutcome | null;
  detail: string;
  replies: string[];
} {
  const replies = [...stdout.matchAll(/^reply (.*)$/gm)].map((m) => m[1]);
  const last = [...stdout.matchAll(/^result (\S+) ?(.*)$/gm)].pop();
  return { outcome: (last?.[1] as ClientOutcome | undefined) ?? null, detail: last?.[2] ?? '', replies };
}

/** Run line-client in `host` to completion and parse what it printed. */
export async function runLineClient(lab: Lab, host: Placement, o: LineClientOptions): Promise<ClientResult> {
  // The client enforces its own timeout; the exec deadline only guards against a hung client.
  const { uid, gid, env, replaceEnv, cwd } = o;
  const r = await lab.exec(host, lineClientArgv(o), {
    uid,
    gid,
    env,
    replaceEnv,
    cwd,
    timeoutMs: (o.timeoutMs ?? 5000) * 4 + 10_000,
  });
  return { ...r, ...parseClientOutput(r.stdout) };
}
