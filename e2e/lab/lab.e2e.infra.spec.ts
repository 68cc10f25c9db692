// The lab's own tests, with no Palisade at all: plain traffic flows where the topology says it should, the
// capture tooling sees plaintext when there is plaintext (so it would detect a leak) and tells TLS 1.3 from
// anything else, and teardown leaves nothing behind — also after a signal or a crash.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  checkTls13Only,
  findMarker,
  isAlive,
  Lab,
  LAB_ADDRESSES,
  LAB_HOSTS,
  LAB_NAMES,
  LabError,
  labUnsupportedReason,
  LB_PORT,
  lineClientArgv,
  parseClientOutput,
  renderHaproxyConfig,
  runLineClient,
  SEED_LB_HOSTNAME,
  SERVER_PORT,
  startEchoServer,
  type ExecResult,
  type LabProcess,
} from './index';

const skip = labUnsupportedReason() ?? false;
const PREFIX = 'palinfra';

void describe('Lab with plain traffic (no Palisade)', { skip }, () => {
  let sut: Lab;
  let echo: LabProcess;

  before(async () => {
    Lab.cleanupStale(PREFIX);
    sut = await Lab.create({ prefix: PREFIX });
    echo = await startEchoServer(sut, 'server', { port: SERVER_PORT });
    await sut.startHaproxy({
      listenPort: LB_PORT,
      backend: { host: sut.address('server'), port: SERVER_PORT },
    });
  });
  after(async () => {
    await sut?.destroy();
  });

  void it('client-reaches-the-echo-server-through-haproxy-by-the-seed-load-balancer-name', async () => {
    const r = await runLineClient(sut, 'client', {
      to: SEED_LB_HOSTNAME,
      port: LB_PORT,
      lines: ['one', 'two'],
    });
    assert.equal(r.outcome, 'ok', r.stderr);
    assert.equal(r.code, 0);
    assert.deepEqual(r.replies, ['echo:one', 'echo:two']);
    // Through HAProxy the server sees the lb as its peer: the connection was terminated and re-opened.
    assert.match(echo.stdout, new RegExp(`connection \\d+ from ${LAB_ADDRESSES.lb}:`));
  });

  void it('client-reaches-the-echo-server-directly', async () => {
    const r = await runLineClient(sut, 'client', { to: 'server.lab', port: SERVER_PORT, lines: ['direct'] });
    assert.equal(r.outcome, 'ok', r.stderr);
    assert.deepEqual(r.replies, ['echo:direct']);
    assert.match(echo.stdout, new RegExp(`connection \\d+ from ${LAB_ADDRESSES.client}:`));
  });

  void it('rogue-reaches-the-echo-server-through-haproxy-and-directly-when-nothing-protects-it', async () => {
    const viaLb = await runLineClient(sut, 'rogue', { to: 'lb.lab', port: LB_PORT, lines: ['r1'] });
    const direct = await runLineClient(sut, 'rogue', {
      to: sut.address('server'),
      port: SERVER_PORT,
      lines: ['r2'],
    });
    assert.deepEqual([viaLb.outcome, direct.outcome], ['ok', 'ok']);
    assert.deepEqual([...viaLb.replies, ...direct.replies], ['echo:r1', 'echo:r2']);
    assert.match(echo.stdout, new RegExp(`connection \\d+ from ${LAB_ADDRESSES.rogue}:`));
  });

  void it('hosts-file-resolves-every-lab-name-and-the-seed-name-in-every-namespace', async () => {
    const names = LAB_HOSTS.flatMap((h) => LAB_NAMES[h].map((n) => [n, LAB_ADDRESSES[h]] as const));
    for (const host of LAB_HOSTS) {
      // One lookup per name through the C library's resolver (NSS "files"), as any program would do it.
      const script = names.map(([n]) => `getent hosts ${n} || echo "- ${n}"`).join('; ');
      const r = await sut.exec(host, ['sh', '-c', script]);
      const got = r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]);
      assert.deepEqual(
        got,
        names.map(([, a]) => a),
        `in ${host}`,
      );
    }
  });

  void it('capture-at-the-load-balancer-holds-the-plaintext-marker-and-fails-the-tls-check', async () => {
    const marker = `PLAINTEXT-MARKER-${process.pid}`;
    const cap = await sut.capture('lb', { filter: `tcp port ${LB_PORT} or tcp port ${SERVER_PORT}` });
    const r = await runLineClient(sut, 'client', { to: SEED_LB_HOSTNAME, port: LB_PORT, lines: [marker] });
    assert.equal(r.outcome, 'ok', r.stderr);
    const file = await cap.stop();

    const hits = await findMarker(file, marker);
    assert.equal(hits.found, true);
    assert.equal(hits.inFile, true);
    // Both legs through the lb carry it both ways: client→lb, lb→server, and the echoes back.
    assert.equal(hits.streams.length, 4, JSON.stringify(hits.streams));

    const tls = await checkTls13Only(file, [LB_PORT, SERVER_PORT]);
    assert.equal(tls.ok, false);
    assert.equal(tls.segments, 4);
    assert.ok(tls.violations.some((v) => v.reason === 'not_a_tls_record'));
    assert.deepEqual(
      new Set(tls.violations.map((v) => v.reason)),
      new Set(['not_a_tls_record', 'no_server_hello']),
    );
  });

  void describe('with an application that speaks TLS itself', () => {
    let ca: string;
    before(async () => {
      const key = join(sut.runtimeDir, 'tls.key');
      ca = join(sut.runtimeDir, 'tls.crt');
      const r = await sut.exec('root', [
        'openssl',
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        ca,
        '-days',
        '1',
        '-subj',
        '/CN=server.lab',
        '-addext',
        `subjectAltName=DNS:server.lab,DNS:lb.lab`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      await startEchoServer(sut, 'server', { port: 8107, tls: { cert: ca, key } });
      await startEchoServer(sut, 'server', { port: 8108, tls: { cert: ca, key, maxVersion: 'TLSv1.2' } });
      await sut.startHaproxy({ listenPort: 7107, backend: { host: 'server.lab', port: 8107 } });
      await sut.startHaproxy({ listenPort: 7108, backend: { host: 'server.lab', port: 8108 } });
    });

    void it('capture-of-tls-1.3-through-haproxy-passes-the-tls-check-and-hides-the-marker', async () => {
      const marker = `TLS13-MARKER-${process.pid}`;
      const cap = await sut.capture('lb', { filter: 'tcp port 7107 or tcp port 8107' });
      const r = await runLineClient(sut, 'client', {
        to: 'lb.lab',
        port: 7107,
        lines: [marker],
        tls: { ca, servername: 'server.lab' },
      });
      assert.equal(r.outcome, 'ok', r.stderr);
      const file = await cap.stop();

      assert.deepEqual(await findMarker(file, marker), { found: false, inFile: false, streams: [] });
      const tls = await checkTls13Only(file, [7107, 8107]);
      assert.deepEqual(tls.violations, []);
      assert.equal(tls.ok, true);
      // HAProxy passes the TLS bytes through: two TCP streams (client→lb, lb→server), one TLS 1.3 session.
      assert.deepEqual(
        tls.streams.map((s) => s.negotiated),
        [0x0304, 0x0304],
      );
    });

    void it('capture-of-tls-1.2-fails-the-tls-check-as-not-tls13', async () => {
      const cap = await sut.capture('lb', { filter: 'tcp port 7108 or tcp port 8108' });
      const r = await runLineClient(sut, 'client', {
        to: 'lb.lab',
        port: 7108,
        lines: ['x'],
        tls: { ca, servername: 'server.lab' },
      });
      assert.equal(r.outcome, 'ok', r.stderr);
      const tls = await checkTls13Only(await cap.stop(), [7108, 8108]);
      assert.equal(tls.ok, false);
      assert.deepEqual(
        tls.violations.map((v) => v.reason),
        ['not_tls13', 'not_tls13'],
      );
    });
  });

  void it('control-plane-namespace-reaches-postgres-at-loopback-5432', async () => {
    // The pg client the control plane uses, run inside the namespace (no psql needed).
    const query = (host: 'cp' | 'client'): Promise<ExecResult> =>
      sut.exec(host, [
        process.execPath,
        '-e',
        `const { Client } = require(${JSON.stringify(require.resolve('pg'))});
         const c = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres', connectionTimeoutMillis: 2000 });
         c.connect().then(() => c.query('select 40 + 2 as n')).then((r) => { console.log(r.rows[0].n); return c.end(); })
          .catch((e) => { console.error(e.message); process.exit(1); });`,
      ]);
    const r = await query('cp');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '42');
    // …and only there: the other hosts have no such bridge.
    const other = await query('client');
    assert.equal(other.code, 1);
    assert.match(other.stderr, /ECONNREFUSED/);
  });

  void it('processes-run-as-the-requested-uid-and-gid-with-no-supplementary-groups', async () => {
    const r = await sut.exec('client', ['id'], { uid: 65534, gid: 65534 });
    assert.equal(r.stdout.trim(), 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)');
    const root = await sut.exec('client', ['id', '-u']);
    assert.equal(root.stdout.trim(), '0');
  });

  void it('line-client-reports-refused-when-nothing-listens-and-timeout-when-nothing-answers', async () => {
    const refused = await runLineClient(sut, 'client', { to: 'server.lab', port: 8199 });
    assert.deepEqual([refused.outcome, refused.code], ['refused', 2]);
    // A server that accepts and never replies.
    const mute = sut.spawn('server', [
      process.execPath,
      '-e',
      "require('net').createServer(() => {}).listen(8198)",
    ]);
    await sut.waitForListen('server', 8198, { process: mute });
    const timeout = await runLineClient(sut, 'client', { to: 'server.lab', port: 8198, timeoutMs: 300 });
    assert.deepEqual([timeout.outcome, timeout.code], ['timeout', 4]);
  });

  void it('held-connection-reports-when-the-other-side-closes-it', async () => {
    const server = await startEchoServer(sut, 'server', { port: 8197 });
    const client = sut.spawn(
      'client',
      lineClientArgv({ to: 'server.lab', port: 8197, lines: ['held'], hold: true }),
    );
    await client.waitForOutput(/^holding$/m);
    assert.equal(client.exitStatus, null);
    await server.stop();
    const status = await client.exited;
    assert.deepEqual(status, { code: 0, signal: null });
    assert.equal(parseClientOutput(client.stdout).outcome, 'closed-by-peer');
  });
});

void describe('HAProxy config', () => {
  void it('is mode tcp with timeouts and no health checks', () => {
    const cfg = renderHaproxyConfig({
      listenPort: 7106,
      bindAddress: '198.18.0.20',
      backend: { host: '198.18.0.30', port: 8106 },
      timeouts: { connect: 1, client: 2, server: 3 },
    });
    assert.match(cfg, /^ {2}mode tcp$/m);
    assert.match(cfg, /^ {2}bind 198\.18\.0\.20:7106$/m);
    assert.match(cfg, /^ {2}server s1 198\.18\.0\.30:8106$/m);
    assert.match(cfg, /timeout connect 1ms[\s\S]*timeout client 2ms[\s\S]*timeout server 3ms/);
    assert.doesNotMatch(cfg, /\bcheck\b/);
  });
});

void describe('Lab teardown', { skip }, () => {
  void it('create-refuses-an-invalid-prefix-and-an-existing-lab-with-typed-errors', async () => {
    await assert.rejects(
      Lab.create({ prefix: 'Bad-Prefix' }),
      (e: unknown) => e instanceof LabError && e.code === 'prefix_invalid',
    );
    Lab.cleanupStale('paldup');
    const first = await Lab.create({ prefix: 'paldup', postgres: false });
    try {
      await assert.rejects(
        Lab.create({ prefix: 'paldup' }),
        (e: unknown) => e instanceof LabError && e.code === 'lab_exists',
      );
      assert.throws(
        () => first.address('nope' as never),
        (e: unknown) => e instanceof LabError && e.code === 'host_unknown',
      );
    } finally {
      await first.destroy();
    }
  });

  void it('destroy-leaves-no-namespaces-links-processes-or-files-and-is-idempotent', async () => {
    Lab.cleanupStale('paldown');
    const lab = await Lab.create({ prefix: 'paldown' });
    await startEchoServer(lab, 'server', { port: SERVER_PORT });
    await lab.startHaproxy();
    const cap = await lab.capture('lb');
    lab.spawn('rogue', ['sleep', '600']);
    const pids = [...lab.processes.map((p) => p.pid), ...lab.namespacePids()];
    assert.ok(pids.length >= 6);
    assert.equal(Lab.leftovers('paldown').namespaces.length, 6);
    assert.ok(existsSync(cap.file));

    await lab.destroy();

    assert.deepEqual(Lab.leftovers('paldown'), {
      namespaces: [],
      netnsDirs: [],
      runtimeDir: false,
      rootLinks: [],
      recordedProcesses: [],
    });
    assert.deepEqual(pids.filter(isAlive), []);
    assert.equal(existsSync(cap.file), false);
    await lab.destroy(); // idempotent: a second destroy finds nothing and throws nothing
    assert.throws(
      () => lab.spawn('client', ['true']),
      (e: unknown) => e instanceof LabError && e.code === 'lab_destroyed',
    );
  });

  for (const [signal, expected] of [
    ['SIGTERM', 'removes itself'],
    ['SIGKILL', 'is removed by cleanupStale'],
  ] as const) {
    void it(`a-lab-whose-process-gets-${signal}-${expected.replace(/ /g, '-')}`, async () => {
      const prefix = signal === 'SIGTERM' ? 'palterm' : 'palkill';
      Lab.cleanupStale(prefix);
      const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'hold-lab.js'), prefix], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const pids = await new Promise<number[]>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = out.match(/^ready (.*)$/m);
          if (m) {
            resolve(JSON.parse(m[1]) as number[]);
          }
        });
        child.on('exit', (code) => reject(new Error(`fixture exited ${code}`)));
      });
      assert.equal(Lab.leftovers(prefix).namespaces.length, 6);
      const exited = new Promise((r) => child.on('exit', (code, sig) => r(code ?? sig)));
      child.kill(signal);
      assert.equal(await exited, signal === 'SIGTERM' ? 143 : 'SIGKILL');
      if (signal === 'SIGKILL') {
        // Nothing ran to clean up: everything is still there until cleanupStale.
        assert.equal(Lab.leftovers(prefix).namespaces.length, 6);
        assert.ok(pids.some(isAlive));
        const report = Lab.cleanupStale(prefix);
        assert.equal(report.namespaces.length, 6);
      }
      assert.deepEqual(Lab.leftovers(prefix), {
        namespaces: [],
        netnsDirs: [],
        runtimeDir: false,
        rootLinks: [],
        recordedProcesses: [],
      });
      assert.deepEqual(pids.filter(isAlive), []);
    });
  }
});
