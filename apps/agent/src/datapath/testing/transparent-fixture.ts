// A child process for the transparent-mode test: one host's agent datapath inside a network namespace.
//   node transparent-fixture.js server '{"pkiDir":…,"appPort":8106,"listenerPort":15001,"gid":…}'
//   node transparent-fixture.js client '{"pkiDir":…,"serviceIp":…,"servicePort":8106,"listenerPort":15002,"gid":…}'
// It is spawned with the agent's group (`gid`), so its own sockets are exempt from the redirect rules,
// installs the rules, prints "ready", and removes the rules on SIGTERM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownerOfAcceptedSocket } from '../../identity/socket-owner';
import { InboundListener } from '../inbound-listener';
import { OutboundListener } from '../outbound-listener';
import { RedirectRules } from '../redirect-rules';
import { echoServer } from './harness';

interface FixtureConfig {
  pkiDir: string;
  gid: number;
  appPort?: number;
  listenerPort: number;
  serviceIp?: string;
  servicePort?: number;
}

async function main(): Promise<void> {
  const [role, json] = process.argv.slice(2);
  const cfg = JSON.parse(json) as FixtureConfig;
  const pem = (n: string): string => readFileSync(join(cfg.pkiDir, n), 'utf8');
  const ca = pem('ca.pem');
  let rules: RedirectRules;
  if (role === 'server') {
    const app = await echoServer(); // the application, on loopback
    const inbound = new InboundListener({
      host: '0.0.0.0',
      port: cfg.listenerPort,
      target: { host: '127.0.0.1', port: app.port },
      protectedPort: cfg.appPort,
      material: { key: pem('server.key'), cert: pem('server.pem'), ca },
      authorize: () => ({ allow: true, reason: 'policy' }),
    });
    await inbound.listen();
    rules = new RedirectRules({ inbound: [{ port: cfg.appPort!, listenerPort: cfg.listenerPort }], outbound: [], excludeGid: cfg.gid });
  } else {
    const outbound = new OutboundListener({
      host: '127.0.0.1',
      port: cfg.listenerPort,
      upstream: { host: cfg.serviceIp!, port: cfg.servicePort! },
      // Transparent mode: the client is whoever owns the other end of the redirected socket.
      identify: (s) => (ownerOfAcceptedSocket(s) ? { puId: 'client-pu' } : null),
      authorizeOutgoing: () => ({ allow: true, reason: 'policy' }),
      verifyServer: () => ({ allow: true, reason: 'policy' }),
    });
    outbound.setClientContext('client-pu', { key: pem('client.key'), cert: pem('client.pem'), ca });
    await outbound.listen();
    rules = new RedirectRules({
      inbound: [],
      outbound: [{ ip: cfg.serviceIp!, port: cfg.servicePort!, listenerPort: cfg.listenerPort }],
      excludeGid: cfg.gid,
    });
  }
  await rules.install();
  rules.removeOnExit();
  process.stdout.write('ready\n');
}

main().catch((err: Error) => {
  process.stderr.write(`fixture failed: ${err.message}\n`);
  process.exit(1);
});
