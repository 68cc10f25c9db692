// `npm start`: the seed scenario on loopback, with no root and no database server. It starts the control plane on
// the embedded database, an unmodified echo server and client, HAProxy (or a TCP forwarder when HAProxy is not
// installed) as the load balancer, and three agents in explicit mode; shows what is allowed and what is refused,
// and why; then leaves everything running until Ctrl-C.
import { resolve, relative } from 'node:path';
import { LoopbackScenario, NAMESPACE, type ClientOutcome } from '../scenario/loopback';

const dataRoot = resolve(process.env.PALISADE_DATA_DIR ?? '.palisade');
const rel = (p: string) => relative(process.cwd(), p) || '.';
const t0 = Date.now();
const step = (line: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

interface Row {
  flow: string;
  path: string;
  encrypted: string;
  verdict: string;
  policy: string;
}

interface FlowReport {
  id: string;
  direction: string;
  action: string;
  policyName: string | null;
  reason: string;
  sourceName: string | null;
}

function table(rows: Row[]): string {
  const head: Row = { flow: 'flow', path: 'path', encrypted: 'encrypted', verdict: 'verdict', policy: 'deciding policy / reason' };
  const all = [head, ...rows];
  const w = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const cols: (keyof Row)[] = ['flow', 'path', 'encrypted', 'verdict', 'policy'];
  const line = (r: Row) => cols.map((k) => r[k].padEnd(w(k))).join('  ').trimEnd();
  return [line(head), cols.map((k) => '-'.repeat(w(k))).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const s = new LoopbackScenario({ dataDir: resolve(dataRoot, 'demo'), cpDataDir: dataRoot, cpPort: 8443, lbPort: 7106, step });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) {
      return;
    }
    stopping = true;
    process.stdout.write('\nstopping every process the demo started…\n');
    await s.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    step('palisade demo: the seed scenario (examples/) on loopback, explicit mode, embedded database');
    await s.start();
    const before = new Set((await s.flowReports()).map((f: FlowReport) => f.id));
    const probes: [string, () => Promise<ClientOutcome>][] = [
      ['client-app → load balancer', () => s.client(['hello through the load balancer'])],
      ['other-host (no app=client) → load balancer', () => s.otherClient(['may I?'])],
      ['plaintext rogue → load balancer', () => s.rogueViaLb()],
      ['plaintext rogue → server:8106 directly', () => s.rogueDirect()],
      ['foreign-CA client → load balancer', () => s.foreignCa()],
    ];
    const seen: ClientOutcome[] = [];
    for (const [name, probe] of probes) {
      const r = await probe();
      seen.push(r);
      step(`${name}: ${r.ok ? `allowed, reply ${JSON.stringify(r.replies[0])}` : `refused (${r.result})`}`);
    }
    step('waiting for the agents’ flow reports to reach the control plane…');
    let flows: FlowReport[] = [];
    const want = (f: FlowReport[]) =>
      f.some((x) => x.direction === 'incoming' && x.action === 'Allow') &&
      f.some((x) => x.direction === 'outgoing' && x.action === 'Reject') &&
      f.some((x) => x.direction === 'incoming' && x.reason === 'certificate_untrusted');
    for (let i = 0; i < 50 && !want(flows); i++) {
      await new Promise((r) => setTimeout(r, 200));
      flows = ((await s.flowReports()) as FlowReport[]).filter((f) => !before.has(f.id));
    }
    const find = (p: (f: FlowReport) => boolean) => flows.find(p);
    const decided = (f: FlowReport | undefined, side: string) =>
      f ? `${f.policyName ?? (f.reason === 'default' ? 'namespace default (Reject)' : f.reason)} (${side})` : 'no report yet';
    const lb = s.lbKind === 'haproxy' ? 'HAProxy' : 'TCP forwarder';
    const allow = find((f) => f.direction === 'incoming' && f.action === 'Allow');
    const other = find((f) => f.direction === 'outgoing' && f.action === 'Reject' && f.sourceName === 'other-host');
    const plain = find((f) => f.direction === 'incoming' && f.reason === 'tls_handshake_failed');
    const foreign = find((f) => f.direction === 'incoming' && f.reason === 'certificate_untrusted');
    const verdict = (o: ClientOutcome) => (o.ok ? 'Allow' : 'Reject');
    const rows: Row[] = [
      { flow: 'client-app → tcp:8106', path: `client agent → ${lb} :${s.ports.lb} → server agent → app`, encrypted: seen[0].ok ? 'yes, mTLS 1.3 end to end' : '-', verdict: verdict(seen[0]), policy: decided(allow, 'server agent') },
      { flow: 'other-host → tcp:8106', path: 'other agent (refused before dialling)', encrypted: '-', verdict: verdict(seen[1]), policy: decided(other, 'client side') },
      { flow: 'rogue (plaintext) → tcp:8106', path: `${lb} :${s.ports.lb} → server agent`, encrypted: 'no: refused at the TLS listener', verdict: verdict(seen[2]), policy: decided(plain, 'server agent') },
      { flow: 'rogue (plaintext) → tcp:8106', path: `direct to server agent :${s.ports.serverTls}`, encrypted: 'no: refused at the TLS listener', verdict: verdict(seen[3]), policy: decided(plain, 'server agent') },
      { flow: 'foreign CA → tcp:8106', path: `${lb} :${s.ports.lb} → server agent`, encrypted: 'TLS, but not our CA', verdict: verdict(seen[4]), policy: decided(foreign, 'server agent') },
    ];
    process.stdout.write(`\n${table(rows)}\n\n`);
    const token = s.adminToken ? `${rel(dataRoot)}/admin-token` : '(PALISADE_ADMIN_TOKEN)';
    process.stdout.write(
      [
        `control plane  ${s.cpUrl}   (CA: ${rel(s.caFile)}, admin token: ${token})`,
        `API docs       ${s.cpUrl}/docs`,
        'try            npm run -s palisade -- login --url ' + s.cpUrl + ` --token "$(cat ${token})" --ca ${rel(s.caFile)}`,
        `               npm run -s palisade -- get flows -n ${NAMESPACE}`,
        `               npm run -s palisade -- check -n ${NAMESPACE} --subject '$namespace=${NAMESPACE},app=client' --object '$namespace=${NAMESPACE},$identity=processingunit,$type=HostService,hs:name=tcp:8106' --port tcp/8106`,
        `an unmodified client can dial the service at 127.0.0.1:${s.ports.clientSvc} (client agent) — e.g. node dist/e2e/apps/line-client.js --port ${s.ports.clientSvc} --line hi`,
        '',
        'palisade demo ready — press Ctrl-C to stop',
        '',
      ].join('\n'),
    );
  } catch (e) {
    process.stderr.write(`\ndemo failed: ${e instanceof Error ? e.message : String(e)}\n`);
    await stop(1);
  }
}

void main();
