// HAProxy from Debian's package, as the seed scenario's TCP load balancer: `mode tcp`, terminating each TCP
// connection and opening a new one to the backend — exactly the kind of middlebox the agents' end-to-end
// mTLS must cross without it ever seeing plaintext.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './errors';
import type { Lab } from './lab';
import type { LabProcess } from './proc';
import { LAB_ADDRESSES, LB_PORT, SERVER_PORT } from './topology';

export interface HaproxyOptions {
  /** Port the frontend listens on in `lb` (default 7106). */
  listenPort?: number;
  /** Address the frontend binds (default the lb's lab address). */
  bindAddress?: string;
  /** Where connections go (default the server's address, port 8106). A host name resolves via `lb`'s hosts file. */
  backend?: { host: string; port: number };
  /** Timeouts in milliseconds; client/server bound how long an idle connection stays open. */
  timeouts?: { connect?: number; client?: number; server?: number };
}

/**
 * The configuration the lab runs. There are deliberately no health checks (`check` on the server line): a
 * check would open its own connections to the backend, which would show up in captures as flows that are
 * neither the client's nor TLS, and would be refused by the server's agent and pollute the flow reports.
 */
export function renderHaproxyConfig(
  o: Required<Omit<HaproxyOptions, 'timeouts'>> & {
    timeouts: Required<NonNullable<HaproxyOptions['timeouts']>>;
  },
): string {
  const name = `lab_${o.listenPort}`;
  return [
    '# written by the Palisade e2e lab',
    'global',
    '  log stdout format raw local0 info',
    '  maxconn 1024',
    'defaults',
    '  mode tcp',
    '  log global',
    '  option tcplog',
    `  timeout connect ${o.timeouts.connect}ms`,
    `  timeout client ${o.timeouts.client}ms`,
    `  timeout server ${o.timeouts.server}ms`,
    `frontend fe_${name}`,
    `  bind ${o.bindAddress}:${o.listenPort}`,
    `  default_backend be_${name}`,
    `backend be_${name}`,
    `  server s1 ${o.backend.host}:${o.backend.port}`,
    '',
  ].join('\n');
}

/**
 * Write the config to the lab's runtime directory, validate it with `haproxy -c`, run `haproxy -db` (stay in
 * the foreground, so the lab tracks and kills the process itself) in `lb`, and resolve once it listens.
 * Throws LabError `command_failed` for a config HAProxy rejects, `process_exited`/`timeout` if it never listens.
 */
export async function startHaproxy(lab: Lab, opts: HaproxyOptions): Promise<LabProcess> {
  const o = {
    listenPort: opts.listenPort ?? LB_PORT,
    bindAddress: opts.bindAddress ?? LAB_ADDRESSES.lb,
    backend: opts.backend ?? { host: LAB_ADDRESSES.server, port: SERVER_PORT },
    timeouts: { connect: 2000, client: 60_000, server: 60_000, ...opts.timeouts },
  };
  const file = join(lab.runtimeDir, `haproxy-${o.listenPort}.cfg`);
  writeFileSync(file, renderHaproxyConfig(o));
  const check = spawnSync('ip', ['netns', 'exec', lab.namespace('lb'), 'haproxy', '-c', '-q', '-f', file], {
    encoding: 'utf8',
  });
  if (check.status !== 0) {
    throw new LabError(
      'command_failed',
      `haproxy rejected ${file}: ${(check.stderr || check.stdout).trim()}`,
    );
  }
  const p = lab.spawn('lb', ['haproxy', '-db', '-f', file]);
  await lab.waitForListen('lb', o.listenPort, { process: p });
  return p;
}
