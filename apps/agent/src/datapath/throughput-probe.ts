// A quick probe, not a test and not the benchmark (bench/, issue 7): where the datapath stands against
// a direct loopback connection and, when stunnel is installed, an stunnel pair with client certificates.
//   node tools/build.mjs && node dist/apps/agent/src/datapath/throughput-probe.js [--mib 256] [--seconds 2]
// Each proxy side runs in its own process (as the real agents would); the load generator, the sink and
// the echo server share this one. Prints MiB/s for one bulk stream, connections/s (connect, 1 KiB
// request/response, close; 8 in parallel) and the p50/p99 of a closed-loop 1 KiB ping-pong.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { InboundListener } from './inbound-listener';
import { OutboundListener } from './outbound-listener';
import { OpensslPki } from './testing/openssl-pki';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** Runs one side of the Palisade pair in this (child) process. */
async function agentRole(role: string, cfg: { dir: string; port: number; target: number }): Promise<void> {
  const pem = (n: string): string => readFileSync(join(cfg.dir, n), 'utf8');
  const allow = { allow: true, reason: 'policy' };
  if (role === 'agent-server') {
    const l = new InboundListener({ host: '127.0.0.1', port: cfg.port, target: { host: '127.0.0.1', port: cfg.target }, material: { key: pem('server.key'), cert: pem('server.pem'), ca: pem('ca.pem') }, authorize: () => allow });
    await l.listen();
  } else {
    const l = new OutboundListener({ host: '127.0.0.1', port: cfg.port, upstream: { host: '127.0.0.1', port: cfg.target }, identify: () => ({ puId: 'pu' }), authorizeOutgoing: () => allow, verifyServer: () => allow });
    l.setClientContext('pu', { key: pem('client.key'), cert: pem('client.pem'), ca: pem('ca.pem') });
    await l.listen();
  }
  process.stdout.write('ready\n');
}

function start(cmd: string, args: string[], readyWhen: (out: string) => boolean): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const on = (d: Buffer): void => {
      out += d.toString();
      if (readyWhen(out)) {
        resolve(child);
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (c) => reject(new Error(`${cmd} exited ${c}: ${out}`)));
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  const p = await listen(s);
  await new Promise((r) => s.close(r));
  return p;
}

async function bulk(port: number, mib: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 7);
  const total = mib * 1024 * 1024;
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    s.setNoDelay(true);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!s.write(chunk)) {
          s.once('drain', pump);
          return;
        }
      }
      s.end();
    };
    s.once('connect', pump);
    s.on('data', () => undefined);
    s.once('end', () => resolve());
    s.once('error', reject);
  });
  return mib / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function connRate(port: number, seconds: number): Promise<number> {
  const req = Buffer.alloc(1024, 1);
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline) {
      await new Promise<void>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port }, () => s.write(req));
        s.setNoDelay(true);
        let got = 0;
        s.on('data', (d: Buffer) => {
          got += d.length;
          if (got >= req.length) {
            s.destroy();
            done++;
            resolve();
          }
        });
        s.once('error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return done / seconds;
}

async function pingPong(port: number, n: number): Promise<{ p50: number; p99: number }> {
  const req = Buffer.alloc(1024, 2);
  const s = connect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  await new Promise((r) => s.once('connect', r));
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      let got = 0;
      const on = (d: Buffer): void => {
        got += d.length;
        if (got >= req.length) {
          s.off('data', on);
          resolve();
        }
      };
      s.on('data', on);
      s.write(req);
    });
    lat.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  s.destroy();
  lat.sort((a, b) => a - b);
  return { p50: lat[Math.floor(n * 0.5)], p99: lat[Math.floor(n * 0.99)] };
}

async function main(): Promise<void> {
  const mib = arg('mib', 256);
  const seconds = arg('seconds', 2);
  const pki = new OpensslPki();
  pki.ca('ca');
  pki.leaf('server', 'ca', 'spiffe://probe/ns/a/pu/server');
  pki.leaf('client', 'ca', 'spiffe://probe/ns/a/pu/client');
  const sink = createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', () => undefined);
    s.on('end', () => s.end('ok'));
  });
  const echo = createServer((s) => {
    s.setNoDelay(true);
    s.pipe(s);
    s.on('error', () => undefined);
  });
  const sinkPort = await listen(sink);
  const echoPort = await listen(echo);
  const children: ChildProcess[] = [];
  const self = __filename;

  /** Starts a proxy pair in front of `target`; returns the client-side port. */
  async function palisade(target: number): Promise<number> {
    const [sp, cp] = [await freePort(), await freePort()];
    children.push(await start(process.execPath, [self, 'agent-server', JSON.stringify({ dir: pki.dir, port: sp, target })], (o) => o.includes('ready')));
    children.push(await start(process.execPath, [self, 'agent-client', JSON.stringify({ dir: pki.dir, port: cp, target: sp })], (o) => o.includes('ready')));
    return cp;
  }
  const haveStunnel = spawnSync('stunnel4', ['-version']).error === undefined;
  async function stunnel(target: number): Promise<number> {
    const [sp, cp] = [await freePort(), await freePort()];
    const common = `foreground = yes\npid =\nsocket = l:TCP_NODELAY=1\nsocket = r:TCP_NODELAY=1\nCAfile = ${pki.dir}/ca.pem\nverifyChain = yes\nsslVersionMin = TLSv1.3\nciphersuites = TLS_AES_128_GCM_SHA256\n`;
    writeFileSync(join(pki.dir, `s${sp}.conf`), `${common}[s]\naccept = 127.0.0.1:${sp}\nconnect = 127.0.0.1:${target}\ncert = ${pki.dir}/server.pem\nkey = ${pki.dir}/server.key\nrequireCert = yes\n`);
    writeFileSync(join(pki.dir, `c${cp}.conf`), `${common}[c]\nclient = yes\naccept = 127.0.0.1:${cp}\nconnect = 127.0.0.1:${sp}\ncert = ${pki.dir}/client.pem\nkey = ${pki.dir}/client.key\n`);
    children.push(await start('stunnel4', [join(pki.dir, `s${sp}.conf`)], (o) => o.includes('Configuration successful')));
    children.push(await start('stunnel4', [join(pki.dir, `c${cp}.conf`)], (o) => o.includes('Configuration successful')));
    return cp;
  }

  const conditions: [string, (t: number) => Promise<number>][] = [['direct', async (t) => t], ['palisade', palisade]];
  if (haveStunnel) {
    conditions.push(['stunnel', stunnel]);
  } else {
    console.log('stunnel4 not installed: skipping the stunnel pair (apt-get install stunnel4)');
  }
  const rows: Record<string, string | number>[] = [];
  for (const [name, make] of conditions) {
    const bulkPort = await make(sinkPort);
    const echoFront = await make(echoPort);
    await bulk(bulkPort, Math.min(32, mib)); // warm-up
    const mibs = await bulk(bulkPort, mib);
    const cps = await connRate(echoFront, seconds);
    const lat = await pingPong(echoFront, 2000);
    rows.push({ condition: name, 'MiB/s': Math.round(mibs), 'conn/s': Math.round(cps), 'p50 µs': Math.round(lat.p50), 'p99 µs': Math.round(lat.p99) });
  }
  console.table(rows);
  for (const c of children) {
    c.kill('SIGKILL');
  }
  sink.close();
  echo.close();
  pki.dispose();
}

const role = process.argv[2];
if (role === 'agent-server' || role === 'agent-client') {
  void agentRole(role, JSON.parse(process.argv[3]));
} else {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err);
      process.exit(1);
    },
  );
}
